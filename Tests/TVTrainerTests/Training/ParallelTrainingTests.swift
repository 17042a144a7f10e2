import XCTest
@testable import TVTrainer

/// The multi-threaded step: split passes agree with the serial ones, and runs are reproducible.
final class ParallelTrainingTests: XCTestCase {
    /// AdamW (+ fused EMA) and the gradient norm over a vector large enough to be split: bit-identical
    /// to the single-threaded pass, and the fused EMA equals `ExponentialMovingAverage.update`.
    func testSplitOptimizerPassesMatchSerial() {
        let n = 40_003
        let p0 = (0..<n).map { Float($0 % 97) * 0.01 - 0.5 }, g0 = (0..<n).map { Float(($0 * 7) % 31) * 0.02 - 0.3 }
        let grads = FloatBuffer(g0)
        XCTAssertEqual(gradientNorm(grads, threads: 2), gradientNorm(grads, threads: 1))
        var results = [[Float]]()
        for threads in [1, 2] {
            let params = FloatBuffer(p0)
            let ema = ExponentialMovingAverage(initial: params)
            let opt = AdamW(parameterCount: n, settings: AdamWSettings(learningRate: 0.01, weightDecay: 0.1))
            for step in 1...3 {
                opt.update(params: params, grads: grads, lr: 0.01, gradientScale: 0.7,
                           ema: (ema.shadow, Float(ema.settings.decay(step: step))), threads: threads)
            }
            results.append(params.array + ema.shadow.array)
        }
        XCTAssertEqual(results[0], results[1])
        // Fused EMA == separate EMA pass.
        let params = FloatBuffer(p0), ema = ExponentialMovingAverage(initial: params), separate = ExponentialMovingAverage(initial: params)
        let opt = AdamW(parameterCount: n, settings: AdamWSettings())
        opt.update(params: params, grads: grads, lr: 0.01, ema: (ema.shadow, Float(ema.settings.decay(step: 2))))
        separate.update(from: params, step: 2)
        XCTAssertEqual(ema.shadow.array, separate.shadow.array)
    }

    /// With 2 threads the batch is split over two model instances: gradients match the
    /// single-threaded ones (up to summation order) and two 2-thread runs are identical.
    func testTwoThreadStepMatchesOneThreadAndIsReproducible() {
        let c = TestModels.tiny(projections: true)
        let B = 9
        let (x0, t, eps) = TestModels.batch(c, size: B, seed: 3)
        let previous = BLASThreads.current
        defer { BLASThreads.set(previous) }
        func run(threads: Int) -> (grads: [Float], params: [Float], loss: Double) {
            BLASThreads.set(threads)
            let trainer = DiffusionTrainer(model: MLPDenoiser(config: c, seed: 1), settings: TrainingSettings(batchSize: B))
            let loss = trainer.lossAndGradients(x0: x0, t: t, eps: eps)
            let grads = trainer.model.gradients.array
            for _ in 0..<3 { trainer.step(x0: x0, t: t, eps: eps) }
            XCTAssertEqual(BLASThreads.current, threads, "thread count restored")
            return (grads, trainer.exportedParameters.array, loss.total)
        }
        let one = run(threads: 1), two = run(threads: 2), again = run(threads: 2)
        XCTAssertEqual(two.grads, again.grads)
        XCTAssertEqual(two.params, again.params)
        XCTAssertEqual(one.loss, two.loss, accuracy: 1e-6 * one.loss)
        let scale = one.grads.map { abs($0) }.max()!
        for i in one.grads.indices { XCTAssertEqual(one.grads[i], two.grads[i], accuracy: 1e-5 * scale, "gradient \(i)") }
        for i in one.params.indices { XCTAssertEqual(one.params[i], two.params[i], accuracy: 1e-4, "parameter \(i)") }
    }
}

import XCTest
@testable import TVTrainer

final class TrainingTests: XCTestCase {
    func testEMADecaySchedule() {
        let s = ExponentialMovingAverage.Settings()
        XCTAssertEqual(s.decay(step: 1), 0)
        XCTAssertEqual(s.decay(step: 16), 1 - pow(16, -0.75), accuracy: 1e-12)   // 0.875
        XCTAssertEqual(s.decay(step: 10_000_000), 0.9999)
    }

    func testLearningRateWarmupAndCosine() {
        let s = LearningRateSchedule(shape: .cosine, warmupSteps: 10, totalSteps: 110, minimumFactor: 0)
        XCTAssertEqual(s.rate(peak: 1, step: 5), 0.5)
        XCTAssertEqual(s.rate(peak: 1, step: 10), 1)
        XCTAssertEqual(s.rate(peak: 1, step: 60), 0.5, accuracy: 1e-6)
        XCTAssertEqual(s.rate(peak: 1, step: 110), 0, accuracy: 1e-6)
    }

    /// Two AdamW steps against the update written out by hand (PyTorch's AdamW algorithm); 37
    /// parameters so both the 16-lane path and the scalar tail run.
    func testAdamWStepMatchesFormula() {
        let n = 37
        let p0 = (0..<n).map { Float($0 % 7) * 0.3 - 1 }, g0 = (0..<n).map { Float(($0 * 5) % 11) * 0.05 - 0.25 }
        let params = FloatBuffer(p0), grads = FloatBuffer(g0)
        let s = AdamWSettings(learningRate: 0.01, beta1: 0.9, beta2: 0.99, weightDecay: 0.1, epsilon: 1e-8)
        let opt = AdamW(parameterCount: n, settings: s)
        opt.update(params: params, grads: grads, lr: 0.01)
        opt.update(params: params, grads: grads, lr: 0.01)
        var p = p0.map(Double.init), m = [Double](repeating: 0, count: n), v = m
        let g = g0.map(Double.init)
        for k in 1...2 {
            for i in 0..<n {
                p[i] *= 1 - 0.01 * 0.1
                m[i] = 0.9 * m[i] + 0.1 * g[i]; v[i] = 0.99 * v[i] + 0.01 * g[i] * g[i]
                let mh = m[i] / (1 - pow(0.9, Double(k))), vh = v[i] / (1 - pow(0.99, Double(k)))
                p[i] -= 0.01 * mh / (vh.squareRoot() + 1e-8)
            }
        }
        for i in 0..<n { XCTAssertEqual(Double(params[i]), p[i], accuracy: 1e-6, "parameter \(i)") }
    }

    /// Clipping inside the AdamW pass equals clipping the gradient first.
    func testFusedClipEqualsSeparateClip() {
        let g0 = (0..<23).map { Float($0 % 5) - 2 }
        let a = FloatBuffer((0..<23).map { Float($0) * 0.1 }), b = FloatBuffer(a.array)
        let s = AdamWSettings(learningRate: 0.01, weightDecay: 0.01)
        let oa = AdamW(parameterCount: 23, settings: s), ob = AdamW(parameterCount: 23, settings: s)
        let ga = FloatBuffer(g0), gb = FloatBuffer(g0)
        let norm = clipGradientNorm(ga, maxNorm: 0.5)
        oa.update(params: a, grads: ga, lr: 0.01)
        ob.update(params: b, grads: gb, lr: 0.01, gradientScale: clipScale(norm: gradientNorm(gb), maxNorm: 0.5))
        XCTAssertEqual(norm, gradientNorm(gb))
        for i in 0..<23 { XCTAssertEqual(a[i], b[i], accuracy: 1e-7) }
    }

    func testClipGradientNorm() {
        let g = FloatBuffer([3, 4])
        XCTAssertEqual(clipGradientNorm(g, maxNorm: 1), 5)
        XCTAssertEqual(Double(g[0]), 0.6, accuracy: 1e-5)
        XCTAssertEqual(Double(g[1]), 0.8, accuracy: 1e-5)
        let long = FloatBuffer((0..<5000).map { Float($0 % 13) - 6 })
        let expected = (0..<5000).reduce(0.0) { $0 + pow(Double($1 % 13) - 6, 2) }.squareRoot()
        XCTAssertEqual(Double(clipGradientNorm(long, maxNorm: nil)), expected, accuracy: 1e-5 * expected)
        XCTAssertEqual(long[1], -5)
    }

    /// A small model on the digits: the loss falls, and a rerun with the same seed is identical.
    func testTrainingReducesLossAndIsReproducible() throws {
        let data = try DatasetSplit.standard(try DatasetLoader.digits()).train
        func run() -> (first: Double, last: Double, params: [Float]) {
            let model = MLPDenoiser(config: data.modelConfig(ModelConfig(hiddenWidth: 32, blocks: 2, timeEmbedding: 16)), seed: 1)
            let trainer = DiffusionTrainer(model: model, settings: TrainingSettings(batchSize: 32, optimizer: AdamWSettings(learningRate: 3e-3), seed: 2))
            var losses = [Double]()
            trainer.train(on: data, until: 300) { losses.append($0.loss.total); return true }
            let first = losses.prefix(20).reduce(0, +) / 20, last = losses.suffix(50).reduce(0, +) / 50
            return (first, last, trainer.exportedParameters.array)
        }
        let a = run(), b = run()
        XCTAssertLessThan(a.last, 0.6 * a.first, "loss \(a.first) -> \(a.last)")
        XCTAssertEqual(a.params, b.params)
    }

    /// A custom sampler is used for every batch (DeMe's range sampler plugs in here).
    func testCustomTimestepSamplerIsUsed() {
        struct Fixed: TimestepSampler {
            func sample(into t: inout [Int], timesteps T: Int, using rng: inout TrainerRandom) { for i in t.indices { t[i] = 7 } }
        }
        let c = TestModels.tiny()
        let trainer = DiffusionTrainer(model: MLPDenoiser(config: c, seed: 1), settings: TrainingSettings(batchSize: 4), timestepSampler: Fixed())
        var seen = [Int](repeating: 0, count: 4)
        trainer.timestepSampler.sample(into: &seen, timesteps: 1000, using: &trainer.rng)
        XCTAssertEqual(seen, [7, 7, 7, 7])
        let x0 = [Float](repeating: 0.1, count: 4 * c.dataDimension)
        let stats = trainer.step(x0: x0)
        XCTAssertEqual(stats.step, 1)
    }
}

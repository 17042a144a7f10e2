import XCTest
@testable import TVTrainer

/// Every parameter tensor's gradient against central finite differences of the loss.
///
/// Float32 forward passes make per-coordinate differences noisy, so each check is a directional
/// derivative: for a random unit direction v restricted to ONE tensor, (L(θ+hv) - L(θ-hv)) / 2h
/// must match g·v. Rounding error is about 1e-7·L/h and truncation about h², so h = 1e-2 keeps
/// both far below the 2% tolerance, while a wrong gradient (sign, transpose, missing term) fails.
final class GradientCheckTests: XCTestCase {
    func checkAllTensors(projections: Bool, teacher: Bool, time: TimeConditioning = .input, norm: BlockNorm = .none) {
        var c = TestModels.tiny(projections: projections)
        c.timeConditioning = time == .input ? nil : time
        c.blockNorm = norm == BlockNorm.none ? nil : norm
        let model = MLPDenoiser(config: c, seed: 7)
        if projections { TestModels.perturbProjections(model, seed: 9) }
        TestModels.perturbNorms(model, seed: 10)
        let settings = TrainingSettings(batchSize: 5, consistencyWeight: teacher ? 0.7 : 0)
        let trainer = DiffusionTrainer(model: model, settings: settings,
                                       teacher: teacher ? MLPDenoiser(config: TestModels.tiny(), seed: 8) : nil)
        let (x0, t, eps) = TestModels.batch(c, size: 5, seed: 3)
        _ = trainer.lossAndGradients(x0: x0, t: t, eps: eps)
        let grads = model.gradients.array
        let theta = model.parameters.array
        var rng = TrainerRandom(seed: 11)
        let h: Float = 1e-2
        for e in model.layout.entries {
            var v = (0..<e.count).map { _ in rng.normal() }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            v = v.map { $0 / norm }
            func loss(_ s: Float) -> Double {
                var p = theta
                for j in 0..<e.count { p[e.offset + j] += s * v[j] }
                model.parameters.assign(p)
                return trainer.lossAndGradients(x0: x0, t: t, eps: eps).total
            }
            let fd = (loss(h) - loss(-h)) / Double(2 * h)
            model.parameters.assign(theta)
            var analytic = 0.0
            for j in 0..<e.count { analytic += Double(grads[e.offset + j]) * Double(v[j]) }
            XCTAssertEqual(analytic, fd, accuracy: 2e-2 * abs(fd) + 2e-4, "gradient of \(e.name)")
        }
    }

    func testGradientsPlain() { checkAllTensors(projections: false, teacher: false) }
    func testGradientsWithProjections() { checkAllTensors(projections: true, teacher: false) }
    func testGradientsWithConsistencyTerm() { checkAllTensors(projections: true, teacher: true) }
    func testGradientsPerBlockTime() { checkAllTensors(projections: false, teacher: false, time: .perBlock) }
    func testGradientsLayerNormBlocks() { checkAllTensors(projections: false, teacher: false, norm: .layer) }
    func testGradientsBlockConditionedWithEverything() {
        checkAllTensors(projections: true, teacher: true, time: .perBlock, norm: .layer)
    }

    /// The consistency loss alone: dL/dout = 2(out - eps)/n + 2 w_c (out - teacher)/n, checked per element.
    func testLossGradientPerElement() {
        var rng = TrainerRandom(seed: 5)
        let n = 12
        let out = (0..<n).map { _ in Double(rng.normal()) }, eps = rng.normals(n), teacher = rng.normals(n)
        let w: Float = 0.7
        func value(_ o: [Float], grad: UnsafeMutablePointer<Float>?) -> Double {
            o.withUnsafeBufferPointer { op in eps.withUnsafeBufferPointer { ep in teacher.withUnsafeBufferPointer { tp in
                DiffusionLoss.evaluate(out: op.baseAddress!, eps: ep.baseAddress!, teacher: tp.baseAddress!,
                                       consistencyWeight: w, count: n, gradient: grad).total
            } } }
        }
        var g = [Float](repeating: 0, count: n)
        let total = g.withUnsafeMutableBufferPointer { value(out.map(Float.init), grad: $0.baseAddress!) }
        var mse = 0.0, cons = 0.0
        for i in 0..<n {
            mse += pow(out[i] - Double(eps[i]), 2) / Double(n)
            cons += pow(out[i] - Double(teacher[i]), 2) / Double(n)
        }
        XCTAssertEqual(total, mse + Double(w) * cons, accuracy: 1e-5)
        for i in 0..<n {
            var plus = out.map(Float.init), minus = plus
            plus[i] += 1e-2; minus[i] -= 1e-2
            let fd = (value(plus, grad: nil) - value(minus, grad: nil)) / 2e-2
            XCTAssertEqual(Double(g[i]), fd, accuracy: 1e-3, "element \(i)")
        }
    }
}

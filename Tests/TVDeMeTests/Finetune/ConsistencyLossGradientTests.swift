import XCTest
import TVTrainer
@testable import TVDeMe

/// The finetuning objective L = mse(eps_i, eps) + W mse(eps_i, eps_pre) with the frozen teacher:
/// its analytic gradient (through the projections) against central finite differences.
final class ConsistencyLossGradientTests: XCTestCase {
    private func loss(_ trainer: DiffusionTrainer, _ x0: [Float], _ t: [Int], _ eps: [Float]) -> Double {
        trainer.lossAndGradients(x0: x0, t: t, eps: eps).total
    }

    func testGradientMatchesFiniteDifferences() throws {
        let pretrained = TinyModels.model(seed: 3)
        // A student away from the teacher so the consistency term is not at its minimum.
        let student = TinyModels.perturbed(pretrained.expandingWithIdentityProjections(), seed: 5, scale: 0.2)
        let settings = TrainingSettings(batchSize: 6, optimizer: .deme, ema: nil, consistencyWeight: 1.5, seed: 0)
        let trainer = DiffusionTrainer(model: student, settings: settings, teacher: pretrained.copy())
        var rng = TrainerRandom(seed: 11)
        let x0 = rng.normals(6 * 4), eps = rng.normals(6 * 4)
        let t = [0, 10, 250, 499, 750, 999]
        let value = trainer.lossAndGradients(x0: x0, t: t, eps: eps)
        XCTAssertGreaterThan(value.consistencyMSE, 1e-4, "the consistency term should be active")
        let grads = student.gradients.array
        // The 12 largest gradient entries, so Float finite differences resolve them well.
        let picks = grads.indices.sorted { abs(grads[$0]) > abs(grads[$1]) }.prefix(12)
        let names = student.layout.entries
        var checkedProjection = false
        for i in picks {
            let saved = student.parameters[i]
            let h: Float = 1e-2
            student.parameters.buffer[i] = saved + h
            let up = loss(trainer, x0, t, eps)
            student.parameters.buffer[i] = saved - h
            let down = loss(trainer, x0, t, eps)
            student.parameters.buffer[i] = saved
            let numeric = (up - down) / Double(2 * h)
            let name = names.first { i >= $0.offset && i < $0.offset + $0.count }!.name
            if name.contains("proj") { checkedProjection = true }
            XCTAssertEqual(Double(grads[i]), numeric, accuracy: 0.03 * abs(numeric) + 1e-4, "parameter \(i) (\(name))")
        }
        // Also a projection entry explicitly (the trained DeMe projection).
        if !checkedProjection, let p = names.first(where: { $0.name.contains("proj") }) {
            let i = p.offset
            let saved = student.parameters[i]
            student.parameters.buffer[i] = saved + 1e-2
            let up = loss(trainer, x0, t, eps)
            student.parameters.buffer[i] = saved - 1e-2
            let down = loss(trainer, x0, t, eps)
            student.parameters.buffer[i] = saved
            XCTAssertEqual(Double(grads[i]), (up - down) / 2e-2, accuracy: 0.03 * abs((up - down) / 2e-2) + 1e-4)
        }
    }

    func testConsistencyTermVanishesWhenStudentEqualsTeacher() throws {
        let pretrained = TinyModels.model(seed: 4)
        let student = pretrained.expandingWithIdentityProjections()
        let withTeacher = DiffusionTrainer(model: student, settings: TrainingSettings(batchSize: 4, ema: nil, consistencyWeight: 1), teacher: pretrained.copy())
        var rng = TrainerRandom(seed: 2)
        let x0 = rng.normals(16), eps = rng.normals(16), t = [1, 300, 600, 900]
        let v = withTeacher.lossAndGradients(x0: x0, t: t, eps: eps)
        XCTAssertEqual(v.consistencyMSE, 0)
        let g1 = student.gradients.array
        let plain = DiffusionTrainer(model: student, settings: TrainingSettings(batchSize: 4, ema: nil, consistencyWeight: 0))
        _ = plain.lossAndGradients(x0: x0, t: t, eps: eps)
        XCTAssertEqual(g1, student.gradients.array)
    }
}

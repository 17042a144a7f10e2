import XCTest
@testable import TVTrainer

/// The Swift model against an independent PyTorch implementation (fixtures/trainer/make.py):
/// same weights and inputs, so output, loss and every gradient must agree to float tolerance.
final class TorchCrossCheckTests: XCTestCase {
    struct Fixture: Decodable {
        struct Config: Decodable {
            let channels, height, width, hiddenWidth, blocks, timeEmbedding: Int
            let timeConditioning: TimeConditioning?
            let blockNorm: BlockNorm?
        }
        let config: Config
        let student: [String: [Double]]
        let teacher: [String: [Double]]
        let x0, eps, output: [Double]
        let teacher_output: [Double]
        let t: [Int]
        let consistency_weight: Double
        let epsilon_mse, consistency_mse, loss: Double
        let gradients: [String: [Double]]
    }

    func model(_ f: Fixture, _ tensors: [String: [Double]], projections: Bool) -> MLPDenoiser {
        let c = ModelConfig(channels: f.config.channels, height: f.config.height, width: f.config.width,
                            hiddenWidth: f.config.hiddenWidth, blocks: f.config.blocks,
                            timeEmbedding: f.config.timeEmbedding, projections: projections,
                            timeConditioning: f.config.timeConditioning ?? .input, blockNorm: f.config.blockNorm ?? BlockNorm.none)
        let layout = MLPDenoiser.layout(for: c)
        XCTAssertEqual(Set(layout.entries.map(\.name)), Set(tensors.keys), "parameter names match PyTorch's state_dict")
        var values = [Float](repeating: 0, count: layout.count)
        for e in layout.entries {
            let v = tensors[e.name]!
            XCTAssertEqual(v.count, e.count, e.name)
            for j in 0..<e.count { values[e.offset + j] = Float(v[j]) }
        }
        return MLPDenoiser(config: c, parameters: values)
    }

    func testMatchesPyTorch() throws { try check("trainer/torch_crosscheck.json") }

    /// Per-block time projection and LayerNorm before each block (both on, projections on).
    func testBlockConditionedMatchesPyTorch() throws { try check("trainer/torch_crosscheck_blocks.json") }

    func check(_ fixture: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture(fixture)))
        let f = try JSONDecoder().decode(Fixture.self, from: data)
        let student = model(f, f.student, projections: true)
        let teacher = model(f, f.teacher, projections: false)
        let trainer = DiffusionTrainer(model: student, settings: TrainingSettings(batchSize: f.t.count,
                                       consistencyWeight: Float(f.consistency_weight)), teacher: teacher)
        let x0 = f.x0.map(Float.init), eps = f.eps.map(Float.init)
        let loss = trainer.lossAndGradients(x0: x0, t: f.t, eps: eps)
        XCTAssertEqual(loss.epsilonMSE, f.epsilon_mse, accuracy: 1e-5 * f.epsilon_mse)
        XCTAssertEqual(loss.consistencyMSE, f.consistency_mse, accuracy: 1e-5 * f.consistency_mse)
        XCTAssertEqual(loss.total, f.loss, accuracy: 1e-5 * f.loss)

        var xt = [Float](repeating: 0, count: x0.count)
        x0.withUnsafeBufferPointer { xp in eps.withUnsafeBufferPointer { ep in xt.withUnsafeMutableBufferPointer {
            trainer.schedule.noise(x0: xp, eps: ep, t: f.t, into: $0)
        } } }
        let out = student.predictEpsilon(x: xt, t: f.t)
        for (a, b) in zip(out, f.output) { XCTAssertEqual(Double(a), b, accuracy: 1e-5) }
        let tout = teacher.predictEpsilon(x: xt, t: f.t)
        for (a, b) in zip(tout, f.teacher_output) { XCTAssertEqual(Double(a), b, accuracy: 1e-5) }

        for e in student.layout.entries {
            let ref = f.gradients[e.name]!
            let scale = ref.map(abs).max() ?? 1
            for j in 0..<e.count {
                XCTAssertEqual(Double(student.gradients[e.offset + j]), ref[j], accuracy: 1e-4 * scale + 1e-7, "\(e.name)[\(j)]")
            }
        }
    }
}

import XCTest
import TVTrainer
@testable import TVDeMe

final class ProjectionMergeIdentityTests: XCTestCase {
    func testIdentityProjectionsDoNotChangeOutputs() {
        let m = TinyModels.model(seed: 7)
        let e = m.expandingWithIdentityProjections()
        XCTAssertTrue(e.config.projections)
        XCTAssertEqual(e.parameterCount, m.parameterCount + 2 * 8 * 8)
        let (x, t) = TinyModels.inputs(batch: 16)
        XCTAssertEqual(e.predictEpsilon(x: x, t: t).map(\.bitPattern), m.predictEpsilon(x: x, t: t).map(\.bitPattern))
    }

    func testAllZeroWeightsReproduceThePretrainedOutputsExactly() throws {
        let pretrained = TinyModels.model(seed: 8)
        let base = pretrained.expandingWithIdentityProjections()
        let members = (0..<4).map { TinyModels.perturbed(base, seed: UInt64(20 + $0)) }
        let merged = try MergedModels(base: base, finetuned: members, names: ["a", "b", "c", "d"]).model(weights: [0, 0, 0, 0])
        let (x, t) = TinyModels.inputs(batch: 32)
        XCTAssertEqual(merged.predictEpsilon(x: x, t: t).map(\.bitPattern), pretrained.predictEpsilon(x: x, t: t).map(\.bitPattern))
    }

    func testMergedProjectionIsIdentityPlusWeightedTaskVectors() throws {
        let base = TinyModels.model(seed: 9).expandingWithIdentityProjections()
        let a = TinyModels.perturbed(base, seed: 1), b = TinyModels.perturbed(base, seed: 2)
        let w = [0.3, 0.5]
        let merged = try MergedModels(base: base, finetuned: [a, b], names: ["a", "b"]).model(weights: w)
        let p = base.layout.entry("blocks.0.proj.weight")!
        for j in 0..<p.count {
            let identity: Float = (j / 8 == j % 8) ? 1 : 0
            let expected = Double(identity) + w[0] * Double(a.parameters[p.offset + j] - identity) + w[1] * Double(b.parameters[p.offset + j] - identity)
            XCTAssertEqual(Double(merged.parameters[p.offset + j]), expected, accuracy: 1e-6)
        }
        // Unit weight on one model gives that model (to float rounding of tau).
        let one = try MergedModels(base: base, finetuned: [a, b], names: ["a", "b"]).model(weights: [1, 0])
        for j in 0..<base.parameterCount { XCTAssertEqual(one.parameters[j], a.parameters[j], accuracy: 1e-6) }
    }

    func testLayoutMismatchIsAnError() {
        let base = TinyModels.model(seed: 1).expandingWithIdentityProjections()
        XCTAssertThrowsError(try MergedModels(base: base, finetuned: [TinyModels.model(seed: 2)], names: ["plain.safetensors"])) { e in
            XCTAssertTrue("\(e)".contains("plain.safetensors"), "\(e)")
        }
    }

    func testWorkerModelsMatchFreshMerges() throws {
        let base = TinyModels.model(seed: 3)
        let mm = try MergedModels(base: base, finetuned: [TinyModels.perturbed(base, seed: 4), TinyModels.perturbed(base, seed: 5)], names: ["a", "b"])
        mm.prepareWorkers(2)
        let (x, t) = TinyModels.inputs(batch: 8)
        for w in [[0.1, 0.9], [1, 0.25]] {
            let viaWorker = try mm.withWorkerModel(1, weights: w) { $0.predictEpsilon(x: x, t: t) }
            XCTAssertEqual(viaWorker, try mm.model(weights: w).predictEpsilon(x: x, t: t))
        }
    }
}

import XCTest
import TVStorage
@testable import TVEngine

/// DELLA, SCE, NuSLERP, multi-SLERP, Karcher, TSV-Merge, Iso-C and Iso-CTS against outputs computed
/// independently with numpy (fixtures/engine/methods_oracle.py, run by make.py) on 2-D, 1-D, 3-D
/// (conv-like), scalar and empty tensors. DELLA's masks use tvtool's counter generator, which the
/// oracle re-implements, so DELLA compares exactly; the SVD methods compare the reconstructed
/// output (SVD sign and order conventions differ between LAPACK builds), with a looser tolerance.
final class WholeTensorMethodTests: XCTestCase {
    func merge(_ method: String, _ inputs: MergeInputs, _ p: MergeParameters, options: MergeOptions = MergeOptions()) throws -> MemoryWriter {
        var o = options
        o.progress = false
        let box = WriterBox()
        _ = try Merger.merge(method: try MergeMethods.named(method), inputs: inputs, parameters: p, options: o, writer: box.factory)
        return box.writer!
    }

    var seeded: MergeOptions { var o = MergeOptions(); o.seed = 7; return o }

    func testDella() throws {
        let p = MergeParameters(global: ["weight": .perModel(EngineFixtures.weights), "density": .scalar(0.6), "epsilon": .scalar(0.2)])
        try EngineFixtures.assertMatches(try merge("della", try EngineFixtures.inputs(), p, options: seeded), "expected_della.safetensors")
    }

    func testDellaLinearWithL1Rescale() throws {
        let p = MergeParameters(global: ["weight": .perModel(EngineFixtures.weights), "density": .scalar(0.5), "epsilon": .scalar(0.1)],
                                options: ["rescale_norm": "l1"])
        try EngineFixtures.assertMatches(try merge("della_linear", try EngineFixtures.inputs(), p, options: seeded),
                                         "expected_della_linear_l1.safetensors")
    }

    func testDellaWithoutEpsilonIsDare() throws {
        let p = MergeParameters(global: ["weight": .perModel(EngineFixtures.weights), "density": .scalar(0.3), "epsilon": .scalar(0)])
        let della = try merge("della_linear", try EngineFixtures.inputs(), p, options: seeded)
        var q = p
        q.global["epsilon"] = nil
        let dare = try merge("dare_linear", try EngineFixtures.inputs(), q, options: seeded)
        for name in ["down.0.weight", "up.1.weight", "down.0.bias"] {
            let a = try della.floats(name), b = try dare.floats(name)
            for j in a.indices { XCTAssertEqual(a[j], b[j], accuracy: 1e-5 * (1 + abs(b[j])), name) }
        }
    }

    func testSce() throws {
        let p = MergeParameters(global: ["select_topk": .scalar(0.5)])
        try EngineFixtures.assertMatches(try merge("sce", try EngineFixtures.inputs(), p), "expected_sce.safetensors")
    }

    func testNuSlerpFlattenedRowsAndColumns() throws {
        let inputs = try EngineFixtures.inputs(["ft1", "ft2"])
        var p = MergeParameters(global: ["weight": .perModel([0.3, 0.7])])
        try EngineFixtures.assertMatches(try merge("nuslerp", inputs, p), "expected_nuslerp.safetensors")
        p.global["nuslerp_flatten"] = .scalar(0)
        try EngineFixtures.assertMatches(try merge("nuslerp", inputs, p), "expected_nuslerp_rows.safetensors")
        p.global["nuslerp_row_wise"] = .scalar(1)
        try EngineFixtures.assertMatches(try merge("nuslerp", inputs, p), "expected_nuslerp_columns.safetensors")
    }

    func testMultiSlerp() throws {
        let p = MergeParameters(global: ["weight": .perModel([1, 2, 3, 4])])
        try EngineFixtures.assertMatches(try merge("multislerp", try EngineFixtures.inputs(), p), "expected_multislerp.safetensors")
    }

    func testKarcher() throws {
        try EngineFixtures.assertMatches(try merge("karcher", try EngineFixtures.inputs(), MergeParameters()), "expected_karcher.safetensors")
    }

    func testTsvMerge() throws {
        try EngineFixtures.assertMatches(try merge("tsv", try EngineFixtures.inputs(), MergeParameters()), "expected_tsv.safetensors", tolerance: 1e-5)
    }

    func testIsoC() throws {
        let p = MergeParameters(global: ["alpha": .scalar(1.3)])
        try EngineFixtures.assertMatches(try merge("iso_c", try EngineFixtures.inputs(), p), "expected_iso_c.safetensors", tolerance: 1e-5)
    }

    func testIsoCts() throws {
        try EngineFixtures.assertMatches(try merge("iso_cts", try EngineFixtures.inputs(), MergeParameters()), "expected_iso_cts.safetensors", tolerance: 1e-5)
    }

    func testIsoCtsSizesFollowTheReferenceRounding() {
        XCTAssertTrue(IsoCts.sizes(rank: 48, tasks: 4, fraction: 0.8) == (40, 2))  // round(2.5) = 2
        XCTAssertTrue(IsoCts.sizes(rank: 7, tasks: 4, fraction: 0.8) == (7, 0))
        XCTAssertTrue(IsoCts.sizes(rank: 100, tasks: 3, fraction: 0.5) == (49, 17))
        XCTAssertTrue(IsoCts.sizes(rank: 3, tasks: 4, fraction: 0.01) == (3, 0))  // never a negative common space
    }

    /// Whole-tensor loading across worker segments and chunks: della_linear with density 1 is task
    /// arithmetic, on a tensor big enough to be split between workers.
    func testDenseLoadingMatchesStreamingAcrossWorkers() throws {
        let n = 70_001
        func values(_ seed: Float) -> [Float] { (0..<n).map { sin(Float($0) * 0.37 + seed) } }
        let base = MemoryReader("base", [("w", tensor(values(0)))])
        let models = (1...3).map { i in MemoryReader("m\(i)", [("w", tensor(values(Float(i))))]) }
        let inputs = MergeInputs(base: base, models: models)
        var o = MergeOptions()
        o.workers = 2
        let p = MergeParameters(global: ["weight": .perModel([0.2, 0.3, 0.5])])
        let a = try merge("della_linear", inputs, p, options: o).floats("w")
        let b = try merge("task_arithmetic", inputs, p, options: o).floats("w")
        for j in stride(from: 0, to: n, by: 7) { XCTAssertEqual(a[j], b[j], accuracy: 1e-6) }
    }

    func testBadParametersAreOneLineErrors() throws {
        let inputs = try EngineFixtures.inputs()
        let cases: [(String, MergeParameters)] = [
            ("della", MergeParameters(global: ["density": .scalar(0.1), "epsilon": .scalar(0.2)])),
            ("della", MergeParameters(global: ["density": .scalar(0.5)], options: ["rescale_norm": "l3"])),
            ("sce", MergeParameters(global: ["select_topk": .scalar(1.5)])),
            ("iso_cts", MergeParameters(global: ["common_space_fraction": .scalar(0)])),
            ("karcher", MergeParameters(global: ["max_iter": .scalar(-1)])),
            ("karcher", MergeParameters(global: ["tol": .scalar(0)])),
            ("multislerp", MergeParameters(global: ["weight": .perModel([1, -1, 1, -1])])),
        ]
        for (method, p) in cases {
            XCTAssertThrowsError(try merge(method, inputs, p), method) { error in
                XCTAssertTrue(error is EngineError, "\(method): \(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
        XCTAssertThrowsError(try merge("nuslerp", inputs, MergeParameters())) { error in
            guard case EngineError.modelCount = error else { return XCTFail("\(error)") }
        }
    }

    func testNonFiniteTaskMatrixIsAnErrorNotACrash() throws {
        let base = MemoryReader("base", [("w", tensor([1, 2, 3, 4], [2, 2]))])
        let bad = MemoryReader("m1", [("w", tensor([1, .nan, 3, 4], [2, 2]))])
        let good = MemoryReader("m2", [("w", tensor([2, 2, 3, 5], [2, 2]))])
        for method in ["tsv", "iso_c", "iso_cts"] {
            XCTAssertThrowsError(try merge(method, MergeInputs(base: base, models: [bad, good]), MergeParameters()), method) { error in
                guard case EngineError.notFinite(let tensor, _) = error else { return XCTFail("\(method): \(error)") }
                XCTAssertEqual(tensor, "w")
            }
        }
    }
}

import XCTest
import TVStorage
@testable import TVEngine

/// Every method against outputs computed independently by numpy (fixtures/engine/make.py).
final class FixtureMergeTests: XCTestCase {
    func merge(_ method: String, _ inputs: MergeInputs, _ p: MergeParameters, options: MergeOptions = MergeOptions()) throws -> MemoryWriter {
        var o = options
        o.progress = false
        let box = WriterBox()
        _ = try Merger.merge(method: try MergeMethods.named(method), inputs: inputs, parameters: p, options: o, writer: box.factory)
        return box.writer!
    }

    let w = MergeParameters(global: ["weight": .perModel(EngineFixtures.weights)])

    func testTaskArithmetic() throws {
        let out = try merge("task_arithmetic", try EngineFixtures.inputs(), w)
        try EngineFixtures.assertMatches(out, "expected_task_arithmetic.safetensors")
        // Integer tensors are the base's, not the finetuned models'.
        XCTAssertEqual(out.written["step"]!.storage.buffer.load(as: Int64.self), 7)
        XCTAssertEqual(out.written["ids"]!.storage.buffer.load(fromByteOffset: 4 * 3, as: Int32.self), 3)
        // Rank-0 scalars and zero-size tensors keep their shapes.
        XCTAssertEqual(out.written["scalar.gain"]!.shape, [])
        XCTAssertEqual(out.written["empty.buffer"]!.shape, [0, 5])
        XCTAssertEqual(out.written["empty.buffer"]!.byteCount, 0)
    }

    func testTaskArithmeticInF64() throws {
        var o = MergeOptions()
        o.precision = .f64
        try EngineFixtures.assertMatches(try merge("task_arithmetic", try EngineFixtures.inputs(), w, options: o),
                                         "expected_task_arithmetic.safetensors", tolerance: 1e-6)
    }

    func testLinear() throws {
        let p = MergeParameters(global: ["weight": .perModel([1, 2, 3, 4])])
        try EngineFixtures.assertMatches(try merge("linear", try EngineFixtures.inputs(), p), "expected_linear.safetensors")
    }

    func testLerpAndSlerp() throws {
        let p = MergeParameters(global: ["t": .scalar(0.3)])
        try EngineFixtures.assertMatches(try merge("lerp", try EngineFixtures.inputs(["ft1"]), p), "expected_lerp.safetensors")
        try EngineFixtures.assertMatches(try merge("slerp", try EngineFixtures.inputs(["ft1"]), p), "expected_slerp.safetensors")
    }

    func testTiesPerTensor() throws {
        var p = w
        p.global["density"] = .scalar(0.4)
        try EngineFixtures.assertMatches(try merge("ties", try EngineFixtures.inputs(), p), "expected_ties.safetensors")
    }

    func testTiesGlobal() throws {
        let p = MergeParameters(global: ["density": .scalar(0.3), "lambda": .scalar(0.8)], options: ["trim": "global"])
        try EngineFixtures.assertMatches(try merge("ties", try EngineFixtures.inputs(), p), "expected_ties_global.safetensors")
    }

    func testBreadcrumbs() throws {
        var p = w
        p.global["density"] = .scalar(0.8)
        p.global["gamma"] = .scalar(0.05)
        try EngineFixtures.assertMatches(try merge("breadcrumbs", try EngineFixtures.inputs(), p), "expected_breadcrumbs.safetensors")
    }

    func testModelStock() throws {
        try EngineFixtures.assertMatches(try merge("model_stock", try EngineFixtures.inputs(), MergeParameters()), "expected_model_stock.safetensors")
    }

    func testRules() throws {
        var p = w
        p.rules = [TensorRule(pattern: .glob("down.*"), values: ["weight": .perModel([0.5, 0.5, 0, 0])])]
        try EngineFixtures.assertMatches(try merge("task_arithmetic", try EngineFixtures.inputs(), p), "expected_rules.safetensors")
    }

    func testApplyTaskVectors() throws {
        let p = MergeParameters(global: ["weight": .scalar(0.7)])
        let out = try merge("task_arithmetic", try EngineFixtures.inputs(["tau1", "tau2"], taskVectors: true), p)
        try EngineFixtures.assertMatches(out, "expected_apply.safetensors")
    }

    func testTaskVectorExpression() throws {
        let readers = [try EngineFixtures.open("base.safetensors"), try EngineFixtures.open("ft1.safetensors")]
        var o = MergeOptions()
        o.progress = false
        let box = WriterBox()
        _ = try ExpressionEvaluator(sources: readers, options: o).evaluate(.taskVector(finetuned: .source(1), base: .source(0)), writer: box.factory)
        try EngineFixtures.assertMatches(box.writer!, "expected_tau1.safetensors", tolerance: 0)
    }

    func testMixedF16BaseBF16Model() throws {
        let p = MergeParameters(global: ["weight": .scalar(0.5)])
        let out = try merge("task_arithmetic", try EngineFixtures.inputs(["mixed_ft_bf16"], base: "mixed_base_f16"), p)
        XCTAssertEqual(out.written["a"]!.dtype, .f16)
        // numpy rounded f64 → f32 → f16; we round f32 → f16: allow one f16 ulp (~1e-3 relative).
        try EngineFixtures.assertMatches(out, "expected_mixed_f16.safetensors", tolerance: 1e-3)
    }

    func testDareStatisticsAndReproducibility() throws {
        var p = MergeParameters(global: ["density": .scalar(0.25)])
        var o = MergeOptions()
        o.seed = 7
        let inputs = try EngineFixtures.inputs(["ft1"])
        let a = try merge("dare_linear", inputs, p, options: o)
        let b = try merge("dare_linear", inputs, p, options: o)
        let base = try inputs.base.tensor(named: "down.0.weight").floats()
        let ft = try inputs.models[0].tensor(named: "down.0.weight").floats()
        let x = try a.floats("down.0.weight")
        XCTAssertEqual(x, try b.floats("down.0.weight"))
        var kept = 0
        for i in x.indices where x[i] != base[i] {
            kept += 1
            XCTAssertEqual(x[i] - base[i], (ft[i] - base[i]) * 4, accuracy: 1e-5)
        }
        let n = Double(x.count), sd = (n * 0.25 * 0.75).squareRoot()
        XCTAssertEqual(Double(kept), n * 0.25, accuracy: 5 * sd)
        // dare_ties with density 1 is TIES without trimming (mask keeps everything, rescale 1).
        p.global["density"] = .scalar(1)
        p.global["weight"] = .perModel(EngineFixtures.weights)
        let dt = try merge("dare_ties", try EngineFixtures.inputs(), p, options: o)
        var tp = w
        tp.global["density"] = .scalar(1)
        let ties = try merge("ties", try EngineFixtures.inputs(), tp)
        XCTAssertEqual(try dt.floats("mid.attn.weight"), try ties.floats("mid.attn.weight"))
    }
}

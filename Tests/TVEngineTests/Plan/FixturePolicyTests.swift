import XCTest
import TVStorage
@testable import TVEngine

/// Key and shape policies on files, the diff summary against numpy, and file output guarantees.
final class FixturePolicyTests: XCTestCase {
    func merge(_ inputs: MergeInputs, keys: KeyPolicy = .error, mismatch: MismatchPolicy = .error) throws -> (MemoryWriter, MergeReport) {
        var o = MergeOptions()
        o.keys = keys
        o.mismatch = mismatch
        o.progress = false
        let box = WriterBox()
        let r = try Merger.merge(method: try MergeMethods.named("task_arithmetic"), inputs: inputs,
                                 parameters: MergeParameters(global: ["weight": .scalar(0.5)]), options: o, writer: box.factory)
        return (box.writer!, r)
    }

    func testMissingAndExtraKeys() throws {
        let missing = try EngineFixtures.inputs(["ft_missing_key"]), extra = try EngineFixtures.inputs(["ft_extra_key"])
        XCTAssertThrowsError(try merge(missing)) { e in
            XCTAssertTrue("\(e)".contains("down.0.bias"), "\(e)")
        }
        XCTAssertThrowsError(try merge(extra)) { e in
            XCTAssertTrue("\(e)".contains("extra.weight"), "\(e)")
        }
        let (w, r) = try merge(try EngineFixtures.inputs(["ft_missing_key"]), keys: .intersection)
        XCTAssertNil(w.written["down.0.bias"])
        XCTAssertEqual(r.alignment.dropped, ["down.0.bias"])
        let (u, _) = try merge(try EngineFixtures.inputs(["ft_missing_key"]), keys: .union)
        XCTAssertEqual(try u.floats("down.0.bias"), try EngineFixtures.open("base.safetensors").tensor(named: "down.0.bias").floats())
    }

    func testShapeAndDTypeMismatch() throws {
        let badShape = try EngineFixtures.inputs(["ft_bad_shape"]), intFloat = try EngineFixtures.inputs(["ft_int_where_float"])
        XCTAssertThrowsError(try merge(badShape)) { e in
            XCTAssertTrue("\(e)".contains("mid.attn.weight") && "\(e)".contains("ft_bad_shape"), "\(e)")
        }
        XCTAssertThrowsError(try merge(intFloat)) { e in
            XCTAssertTrue("\(e)".contains("down.0.bias"), "\(e)")
        }
        let (w, r) = try merge(try EngineFixtures.inputs(["ft_bad_shape"]), mismatch: .skip)
        XCTAssertEqual(r.alignment.skipped.map(\.tensor), ["mid.attn.weight"])
        XCTAssertEqual(try w.floats("mid.attn.weight"), try EngineFixtures.open("base.safetensors").tensor(named: "mid.attn.weight").floats())
    }

    func testDiffSummaryMatchesNumpy() throws {
        let s = try TaskVectorAnalysis.summarize(try EngineFixtures.inputs(), options: { var o = MergeOptions(); o.progress = false; return o }())
        let data = try Data(contentsOf: URL(fileURLWithPath: EngineFixtures.path("expected_diff.json")))
        let e = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let norms = e["norms"] as! [Double], rel = e["relative"] as! [Double], maxAbs = e["max_abs"] as! [Double]
        let changed = e["changed"] as! [Int], cos = e["cosine"] as! [[Double]]
        for i in 0..<4 {
            XCTAssertEqual(s.totals[i].norm, norms[i], accuracy: 1e-5 * norms[i])
            XCTAssertEqual(s.totals[i].relativeNorm!, rel[i], accuracy: 1e-5 * rel[i])
            XCTAssertEqual(s.totals[i].maxAbs, maxAbs[i], accuracy: 1e-6)
            XCTAssertEqual(s.totals[i].changed, changed[i])
            for j in 0..<4 { XCTAssertEqual(s.cosine[i][j]!, cos[i][j], accuracy: 1e-5) }
        }
        XCTAssertEqual(s.nonFloat.sorted(), ["ids", "step"])
        XCTAssertGreaterThan(s.cosine[0][1]!, 0.5)  // the fixture correlates models 1 and 2
    }

    func testFileOutputIsAtomicRecordsRecipeAndRefusesInputs() throws {
        let inputs = try EngineFixtures.inputs(["ft1", "ft2"])
        let dir = TestPaths.scratchDirectory("engine")
        let out = dir.appendingPathComponent("merged.safetensors").path
        var o = MergeOptions()
        o.progress = false
        let p = MergeParameters(global: ["weight": .perModel([0.3, 0.6])])
        _ = try Merger.merge(method: try MergeMethods.named("task_arithmetic"), inputs: inputs, parameters: p, options: o, output: out)
        let merged = try Checkpoints.open(out)
        let recipe = try JSONSerialization.jsonObject(with: Data(merged.metadata[Provenance.metadataKey]!.utf8)) as! [String: Any]
        XCTAssertEqual(recipe["method"] as? String, "task_arithmetic")
        XCTAssertEqual((recipe["inputs"] as? [[String: Any]])?.count, 3)
        XCTAssertEqual(merged.tensors.count, inputs.base.tensors.count)
        // Refuses to overwrite an input, and leaves nothing behind.
        XCTAssertThrowsError(try Merger.merge(method: try MergeMethods.named("task_arithmetic"), inputs: inputs, parameters: p,
                                              options: o, output: inputs.models[0].path))
        // An error mid-way (bad parameter for one tensor via rules) leaves no file.
        let bad = dir.appendingPathComponent("bad.safetensors").path
        var q = p
        q.rules = [TensorRule(pattern: .glob("up.*"), values: ["weight": .perModel([1, 2, 3])])]
        XCTAssertThrowsError(try Merger.merge(method: try MergeMethods.named("task_arithmetic"), inputs: inputs, parameters: q, options: o, output: bad))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != "merged.safetensors" }
        XCTAssertEqual(leftovers, [])
    }
}

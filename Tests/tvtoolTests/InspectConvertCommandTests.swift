import Foundation
import XCTest

/// `tvtool inspect` and `tvtool convert`, run as the built binary: output, exit codes and errors.
final class InspectConvertCommandTests: XCTestCase {
    private func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    func testInspectTableAndJSON() throws {
        let path = TestPaths.fixture("safetensors/dtypes/all_dtypes.safetensors")
        let text = try TVToolBinary.run(["inspect", path])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("f32.matrix"))
        XCTAssertTrue(text.stdout.contains("[3, 4]"))
        XCTAssertTrue(text.stdout.contains("source: fixtures/safetensors/make.py"))

        let r = try TVToolBinary.run(["inspect", path, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try json(r.stdout)
        let tensors = obj["tensors"] as! [[String: Any]]
        XCTAssertEqual(tensors.count, 27)
        let matrix = tensors.first { $0["name"] as? String == "f32.matrix" }!
        XCTAssertEqual(matrix["shape"] as? [Int], [3, 4])
        XCTAssertEqual(matrix["parameters"] as? Int, 12)
        XCTAssertEqual(matrix["bytes"] as? Int, 48)
        let byDType = obj["totals_by_dtype"] as! [String: [String: Int]]
        XCTAssertEqual(byDType["F16"], ["tensors": 3, "parameters": 16, "bytes": 32])
        XCTAssertEqual((obj["metadata"] as? [String: String])?["source"], "fixtures/safetensors/make.py")
    }

    func testInspectFolderVariantAndNotes() throws {
        let r = try TVToolBinary.run(["inspect", TestPaths.fixture("safetensors/diffusers/pipeline"), "--variant", "fp16", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(Set((try json(r.stdout)["tensors"] as! [[String: Any]]).map { $0["dtype"] as! String }), ["F16"])
        let s = try TVToolBinary.run(["inspect", TestPaths.fixture("safetensors/sharded/unmapped.safetensors.index.json")])
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertTrue(s.stdout.contains("'step'"), s.stdout)
    }

    func testMalformedFileExitsTwoWithOneLine() throws {
        let path = TestPaths.fixture("safetensors/malformed/overlap.safetensors")
        let r = try TVToolBinary.run(["inspect", path])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stdout, "")
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(path) && r.stderr.contains("'b'"), r.stderr)

        let c = try TVToolBinary.run(["convert", path, TestPaths.scratchDirectory().appendingPathComponent("o.safetensors").path])
        XCTAssertEqual(c.status, 2)
        XCTAssertEqual(c.stderr.split(separator: "\n").count, 1, c.stderr)
    }

    func testHelpExitsZeroWithExamples() throws {
        for args in [["inspect", "--help"], ["convert", "--help"], ["help", "convert"]] {
            let r = try TVToolBinary.run(args)
            XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("Examples:"), "\(args): \(r.stdout)")
        }
    }

    func testUsageErrorsExitOne() throws {
        XCTAssertEqual(try TVToolBinary.run(["inspect"]).status, 1)
        XCTAssertEqual(try TVToolBinary.run(["convert", "a.safetensors", "b.safetensors", "--dtype", "int3"]).status, 1)
        XCTAssertEqual(try TVToolBinary.run(["convert", "a.safetensors", "b.safetensors", "--max-shard-size", "lots"]).status, 1)
    }

    func testConvertToF16ShardedAndBack() throws {
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = TestPaths.fixture("safetensors/dtypes/all_dtypes.safetensors")
        let index = dir.appendingPathComponent("m.safetensors.index.json").path
        let r = try TVToolBinary.run(["convert", input, index, "--dtype", "f16", "--max-shard-size", "100B", "--json", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try json(r.stdout)["converted_tensors"] as? Int, 7)  // 4 F32, 1 BF16, 2 F64; F16 ones are copied
        let listing = try json(try TVToolBinary.run(["inspect", index, "--json"]).stdout)
        let dtypes = Dictionary(uniqueKeysWithValues: (listing["tensors"] as! [[String: Any]]).map { ($0["name"] as! String, $0["dtype"] as! String) })
        XCTAssertEqual(dtypes["f32.matrix"], "F16")
        XCTAssertEqual(dtypes["f64.scalar"], "F16")
        XCTAssertEqual(dtypes["i64"], "I64")
        XCTAssertEqual(dtypes["f8_e4m3"], "F8_E4M3")
        XCTAssertEqual(dtypes["c64"], "C64")
        XCTAssertEqual(dtypes.count, 27)
        // The output may not overwrite the input.
        let same = try TVToolBinary.run(["convert", input, input])
        XCTAssertEqual(same.status, 2)
        XCTAssertTrue(same.stderr.contains("refusing to overwrite"), same.stderr)
    }

    /// safetensors (sharded) -> HDF5 -> safetensors keeps every tensor bit for bit.
    func testRoundTripThroughHDF5() throws {
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let index = TestPaths.fixture("safetensors/sharded/model.safetensors.index.json")
        let h5 = dir.appendingPathComponent("m.h5").path, back = dir.appendingPathComponent("m.safetensors").path
        let a = try TVToolBinary.run(["convert", index, h5, "--quiet"])
        XCTAssertEqual(a.status, 0, a.stderr)
        let b = try TVToolBinary.run(["convert", h5, back, "--quiet"])
        XCTAssertEqual(b.status, 0, b.stderr)
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("safetensors/sharded/expected.json")))) as! [String: Any]
        let tensors = expected["tensors"] as! [String: [String: Any]]
        let listing = try json(try TVToolBinary.run(["inspect", back, "--json"]).stdout)["tensors"] as! [[String: Any]]
        XCTAssertEqual(Set(listing.map { $0["name"] as! String }), Set(tensors.keys))
        for row in listing {
            let t = tensors[row["name"] as! String]!
            XCTAssertEqual(row["dtype"] as? String, t["dtype"] as? String)
            XCTAssertEqual(row["shape"] as? [Int], t["shape"] as? [Int])
        }
        // Bytes: the data buffer of the final file holds each tensor's expected bytes.
        let data = try Data(contentsOf: URL(fileURLWithPath: back))
        let hex = data.map { String(format: "%02x", $0) }.joined()
        for (name, t) in tensors { XCTAssertTrue(hex.contains(t["hex"] as! String), name) }
    }

    /// Python's numpy/safetensors sees what the F32 -> F16 conversion should give (numpy's RNE).
    func testConvertedValuesMatchNumpy() throws {
        guard let python = TestPaths.python(with: ["safetensors", "numpy"]) else {
            throw XCTSkip("python3 with safetensors and numpy not available: skipping the cross-check")
        }
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = TestPaths.fixture("safetensors/dtypes/all_dtypes.safetensors")
        let output = dir.appendingPathComponent("o.safetensors").path
        XCTAssertEqual(try TVToolBinary.run(["convert", input, output, "--dtype", "f16", "--quiet"]).status, 0)
        let script = """
            import sys, numpy as np
            from safetensors import safe_open
            keys = ["f32.matrix", "f32.specials", "f32.scalar", "f64.values", "f64.scalar", "i64"]
            src = {k: safe_open(sys.argv[1], "np").get_tensor(k) for k in keys}
            out = {k: safe_open(sys.argv[2], "np").get_tensor(k) for k in keys}
            for k in ["f32.matrix", "f32.specials", "f32.scalar", "f64.values", "f64.scalar"]:
                with np.errstate(over="ignore"):
                    want = src[k].astype(np.float16)
                got = out[k]
                assert got.dtype == np.float16 and got.shape == want.shape, k
                same = (got.view(np.uint16) == want.view(np.uint16)) | (np.isnan(got) & np.isnan(want))
                assert same.all(), (k, got, want)
            assert (out["i64"] == src["i64"]).all()
            print("ok")
            """
        let r = try TestPaths.runPython(python, script: script, arguments: [input, output])
        XCTAssertEqual(r.status, 0, r.combinedText)
    }
}

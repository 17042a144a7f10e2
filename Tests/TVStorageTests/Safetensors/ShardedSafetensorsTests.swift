import Foundation
import XCTest
@testable import TVStorage

final class ShardedSafetensorsTests: XCTestCase {
    private func expected(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture(relative)))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    private func assertTensors(_ r: any CheckpointReader, _ tensors: [String: [String: Any]], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(Set(r.tensors.map(\.name)), Set(tensors.keys), file: file, line: line)
        for (name, t) in tensors {
            let tensor = try r.tensor(named: name)
            XCTAssertEqual(tensor.dtype.rawValue, t["dtype"] as? String, name, file: file, line: line)
            XCTAssertEqual(tensor.shape, t["shape"] as? [Int], name, file: file, line: line)
            XCTAssertEqual(tensor.storage.buffer.hexString, t["hex"] as? String, name, file: file, line: line)
        }
    }

    func testReadsShardSetMadeByPython() throws {
        let exp = try expected("safetensors/sharded/expected.json")
        let r = try Checkpoints.open(TestPaths.fixture("safetensors/sharded/model.safetensors.index.json"))
        XCTAssertTrue(r is ShardedSafetensorsReader)
        XCTAssertEqual(r.notes, [])
        XCTAssertEqual(r.metadata["format"], "pt")
        try assertTensors(r, exp["tensors"] as! [String: [String: Any]])
    }

    func testBrokenIndexesGiveTypedErrors() throws {
        let exp = try expected("safetensors/sharded/expected.json")
        for (file, v) in exp["errors"] as! [String: [Any]] {
            let path = TestPaths.fixture("safetensors/sharded/" + file)
            XCTAssertThrowsError(try ShardedSafetensorsReader(indexPath: path), file) { error in
                guard let e = error as? SafetensorsError else { return XCTFail("\(file): \(error)") }
                XCTAssertEqual(e.kind, v[0] as? String, "\(file): \(e)")
                XCTAssertTrue(e.description.contains(path), "\(e)")
                if let named = v[1] as? String { XCTAssertTrue(e.description.contains("'\(named)'"), "\(e)") }
            }
        }
    }

    func testUnmappedTensorsAreReportedInNotes() throws {
        let r = try ShardedSafetensorsReader(indexPath: TestPaths.fixture("safetensors/sharded/unmapped.safetensors.index.json"))
        XCTAssertFalse(r.tensors.contains { $0.name == "step" })
        XCTAssertEqual(r.notes.count, 1)
        XCTAssertTrue(r.notes[0].contains("'step'"), r.notes[0])
    }

    func testWriterSplitsAndReadsBack() throws {
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tensors = try (0..<5).map { i in ("t\(i)", try Tensor.fromFloats((0..<(10 * (i + 1))).map { Float($0 + i) }, shape: [10, i + 1])) }
        let path = dir.appendingPathComponent("model.safetensors").path
        // 40..200 bytes per tensor, at most 250 per shard.
        let w = try Checkpoints.create(path, tensors: tensors.map { $0.1.info(name: $0.0) }, metadata: ["k": "v"],
                                       options: CreateOptions(maxShardBytes: 250))
        for (n, t) in tensors.shuffled() { try w.write(t, named: n) }
        try w.finish()
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        // Greedy in file order: [t0 t1 t2] = 240 bytes, [t3] = 160, [t4] = 200.
        XCTAssertEqual(files, ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                               "model-00003-of-00003.safetensors", "model.safetensors.index.json"])
        let r = try Checkpoints.open(dir.appendingPathComponent("model.safetensors.index.json").path)
        XCTAssertEqual(r.metadata, ["k": "v", "format": "pt"])
        for (n, t) in tensors { XCTAssertEqual(Array(try r.tensor(named: n).storage.buffer), Array(t.storage.buffer)) }
        for s in (r as! ShardedSafetensorsReader).shards { XCTAssertLessThanOrEqual(s.header.entries.last!.end, 250) }

        // Fits in one shard: a plain single file, no index.
        let single = dir.appendingPathComponent("one.safetensors").path
        let w1 = try Checkpoints.create(single, tensors: [tensors[0].1.info(name: "a")], metadata: [:], options: CreateOptions(maxShardBytes: 1000))
        try w1.write(tensors[0].1, named: "a")
        try w1.finish()
        XCTAssertTrue(try Checkpoints.open(single) is SafetensorsReader)
    }

    func testWriterLeavesNothingOnError() throws {
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Tensor.fromFloats([1, 2, 3, 4], shape: [4])
        let path = dir.appendingPathComponent("m.safetensors.index.json").path
        let w = try Checkpoints.create(path, tensors: [t.info(name: "a"), t.info(name: "b")], metadata: [:], options: CreateOptions(maxShardBytes: 16))
        try w.write(t, named: "a")
        XCTAssertThrowsError(try w.finish())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testPythonReadsShardsWeWrite() throws {
        guard let python = TestPaths.python(with: ["safetensors", "numpy"]) else {
            throw XCTSkip("python3 with safetensors and numpy not available: skipping the cross-check")
        }
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tensors = try (0..<3).map { i in ("layer\(i).w", try Tensor.fromFloats((0..<8).map { Float($0) / Float(i + 1) }, shape: [2, 4], dtype: .f16)) }
        let path = dir.appendingPathComponent("m.safetensors").path
        let w = try Checkpoints.create(path, tensors: tensors.map { $0.1.info(name: $0.0) }, metadata: [:], options: CreateOptions(maxShardBytes: 20))
        for (n, t) in tensors { try w.write(t, named: n) }
        try w.finish()
        let script = """
            import json, os, sys
            from safetensors.numpy import load_file
            idx = json.load(open(sys.argv[1]))
            out = {}
            for name, shard in idx["weight_map"].items():
                arr = load_file(os.path.join(os.path.dirname(sys.argv[1]), shard))[name]
                out[name] = arr.tobytes().hex()
            print(json.dumps(out))
            """
        let data = try runPython(python, script: script, args: [dir.appendingPathComponent("m.safetensors.index.json").path])
        let got = try JSONSerialization.jsonObject(with: data) as! [String: String]
        XCTAssertEqual(got.count, 3)
        for (n, t) in tensors { XCTAssertEqual(got[n], t.storage.buffer.hexString, n) }
    }
}

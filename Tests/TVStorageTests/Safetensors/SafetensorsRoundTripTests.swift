import Foundation
import XCTest
@testable import TVStorage

final class SafetensorsRoundTripTests: XCTestCase {
    private func sampleTensors() throws -> [(String, Tensor)] {
        [
            ("b.weight", try Tensor.fromFloats((0..<12).map { Float($0) * 0.5 - 2 }, shape: [3, 4], dtype: .f32)),
            ("a.half", try Tensor.fromFloats([1, -2.5, 65504, 6e-8], shape: [4], dtype: .f16)),
            ("c.bf", try Tensor.fromFloats([3.140625, -0.0], shape: [2, 1], dtype: .bf16)),
            ("d.scalar", try Tensor.fromDoubles([42.25], shape: [], dtype: .f64)),
            ("e.empty", try Tensor(dtype: .f32, shape: [0, 5], storage: ByteStorage(copying: []))),
            ("f.ints", try Tensor(dtype: .i64, shape: [2], storage: ByteStorage(copying: [1, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255]))),
            ("g.bool", try Tensor(dtype: .bool, shape: [3], storage: ByteStorage(copying: [1, 0, 1]))),
        ]
    }

    func testWriteThenReadBack() throws {
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.safetensors").path
        let tensors = try sampleTensors()
        let w = try Checkpoints.create(path, tensors: tensors.map { $0.1.info(name: $0.0) }, metadata: ["note": "hi \"there\"\n"])
        // Any order works: write in reverse declaration order.
        for (name, t) in tensors.reversed() { try w.write(t, named: name) }
        try w.finish()

        let r = try Checkpoints.open(path)
        XCTAssertEqual(r.metadata, ["note": "hi \"there\"\n", "format": "pt"])
        XCTAssertEqual(Set(r.tensors.map(\.name)), Set(tensors.map(\.0)))
        // File order: alignment (largest first), then name.
        XCTAssertEqual(r.tensors.map(\.name), ["d.scalar", "f.ints", "b.weight", "e.empty", "a.half", "c.bf", "g.bool"])
        for (name, t) in tensors {
            let back = try r.tensor(named: name)
            XCTAssertEqual(back.dtype, t.dtype, name)
            XCTAssertEqual(back.shape, t.shape, name)
            XCTAssertEqual(Array(back.storage.buffer), Array(t.storage.buffer), name)
        }
        // Header is space-padded so the data starts 8-byte aligned; no temp files remain.
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        XCTAssertEqual(n % 8, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["m.safetensors"])
    }

    func testAbortAndMissingTensorsLeaveNothingBehind() throws {
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.safetensors").path
        let tensors = try sampleTensors()
        do {
            let w = try Checkpoints.create(path, tensors: tensors.map { $0.1.info(name: $0.0) }, metadata: [:])
            try w.write(tensors[0].1, named: tensors[0].0)
            XCTAssertThrowsError(try w.write(tensors[0].1, named: tensors[0].0))
            XCTAssertThrowsError(try w.write(tensors[1].1, named: "nope"))
            XCTAssertThrowsError(try w.write(tensors[1].1, named: tensors[0].0))
            XCTAssertThrowsError(try w.finish()) { XCTAssertEqual(($0 as? SafetensorsError)?.kind, "tensorsNotWritten") }
        }
        do {
            let w = try Checkpoints.create(path, tensors: tensors.map { $0.1.info(name: $0.0) }, metadata: [:])
            try w.write(tensors[0].1, named: tensors[0].0)
            w.abort()
        }
        do {  // dropped without finish
            let w = try Checkpoints.create(path, tensors: tensors.map { $0.1.info(name: $0.0) }, metadata: [:])
            try w.write(tensors[0].1, named: tensors[0].0)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testRefusesOverwritingInput() throws {
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.safetensors").path
        XCTAssertThrowsError(try Checkpoints.create(path, tensors: [], metadata: [:], options: CreateOptions(inputs: [path]))) {
            XCTAssertEqual($0 as? StorageError, .wouldOverwriteInput(path: path))
        }
    }

    /// The independent reader (Python safetensors) sees identical values in a file tvtool wrote.
    func testPythonReadsWhatWeWrite() throws {
        guard let python = TestPaths.python(with: ["safetensors", "numpy"]) else {
            throw XCTSkip("python3 with safetensors and numpy not available: skipping the cross-check")
        }
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.safetensors").path
        let tensors = try sampleTensors()
        let w = try SafetensorsWriter(path: path, tensors: tensors.map { $0.1.info(name: $0.0) }, metadata: ["k": "v"])
        for (name, t) in tensors { try w.write(t, named: name) }
        try w.finish()
        let script = """
            import json, sys
            from safetensors import safe_open
            out = {}
            with safe_open(sys.argv[1], "np") as f:
                meta = f.metadata()
                for k in f.keys():
                    sl = f.get_slice(k)
                    out[k] = [sl.get_dtype(), list(sl.get_shape())]
            with open(sys.argv[1], "rb") as fh:
                import struct
                n = struct.unpack("<Q", fh.read(8))[0]
                hdr = json.loads(fh.read(n))
                fh.seek(8 + n)
                buf = fh.read()
            raw = {k: buf[v["data_offsets"][0]:v["data_offsets"][1]].hex() for k, v in hdr.items() if k != "__metadata__"}
            print(json.dumps({"meta": meta, "tensors": out, "raw": raw}))
            """
        let output = try runPython(python, script: script, args: [path])
        let obj = try JSONSerialization.jsonObject(with: output) as! [String: Any]
        XCTAssertEqual(obj["meta"] as? [String: String], ["k": "v", "format": "pt"])
        let listed = obj["tensors"] as! [String: [Any]]
        let raw = obj["raw"] as! [String: String]
        for (name, t) in tensors {
            XCTAssertEqual(listed[name]?[0] as? String, t.dtype.rawValue, name)
            XCTAssertEqual(listed[name]?[1] as? [Int], t.shape, name)
            XCTAssertEqual(raw[name], t.storage.buffer.map { String(format: "%02x", $0) }.joined(), name)
        }
    }
}

/// Runs a Python snippet and returns its stdout (fails the test on a non-zero exit).
func runPython(_ python: String, script: String, args: [String]) throws -> Data {
    let r = try TestPaths.runPython(python, script: script, arguments: args)
    if r.status != 0 { XCTFail("python failed: " + r.stderr) }
    return r.stdout
}

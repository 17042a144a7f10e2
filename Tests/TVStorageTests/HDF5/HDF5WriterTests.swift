import Foundation
import XCTest
@testable import TVStorage

/// HDF5Writer: round trips through tvtool's reader and through h5py (the independent oracle).
final class HDF5WriterTests: XCTestCase {
    /// Tensors of every dtype the writer supports, with awkward values, names and shapes.
    static func sampleTensors() throws -> [(String, Tensor)] {
        func raw(_ dtype: DType, _ shape: [Int], _ bytes: [UInt8]) throws -> Tensor {
            try Tensor(dtype: dtype, shape: shape, storage: ByteStorage(copying: bytes))
        }
        func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] { values.flatMap { v in withUnsafeBytes(of: v.littleEndian, Array.init) } }
        let specials: [Float] = [0, -0.0, 1, -2.5, 65504, 1e-7, .infinity, -.infinity, .nan, 3.1415927]
        return [
            ("unet.down.0.weight", try .fromFloats((0..<12).map { Float($0) * 0.25 - 1 }, shape: [3, 4])),
            ("unet.down.10.weight", try .fromFloats([1, 2], shape: [2])),
            ("unet.down.2.weight", try .fromFloats(specials, shape: [10], dtype: .f16)),
            ("unet.mid.bf16", try .fromFloats(specials, shape: [2, 5], dtype: .bf16)),
            ("unet.mid.f64", try .fromDoubles([.pi, -1e300, .leastNonzeroMagnitude], shape: [3])),
            ("ints.i8", try raw(.i8, [3], [0x80, 0x7f, 0x01])),
            ("ints.u8", try raw(.u8, [3], [0, 255, 7])),
            ("ints.i16", try raw(.i16, [2], le([Int16.min, 5]))),
            ("ints.u16", try raw(.u16, [2], le([UInt16.max, 5]))),
            ("ints.i32", try raw(.i32, [2], le([Int32.min, -1]))),
            ("ints.u32", try raw(.u32, [2], le([UInt32.max, 9]))),
            ("ints.i64", try raw(.i64, [2], le([Int64.min, 42]))),
            ("ints.u64", try raw(.u64, [2], le([UInt64.max, 0]))),
            ("flags", try raw(.bool, [2, 2], [1, 0, 0, 1])),
            ("complex", try raw(.c64, [1], le([Float(1.5).bitPattern, Float(-2).bitPattern]))),
            ("fp8.e4m3", try raw(.f8e4m3, [4], [0x00, 0x38, 0xb8, 0x7e])),
            ("scalar", try .fromFloats([7.5], shape: [])),
            ("empty", try .fromFloats([], shape: [0, 4])),
        ]
    }

    private func writeSample(to path: String, metadata: [String: String]) throws -> [(String, Tensor)] {
        let tensors = try Self.sampleTensors()
        let writer = try Checkpoints.create(path, tensors: tensors.map { $0.1.info(name: $0.0) }, metadata: metadata)
        XCTAssertTrue(writer is HDF5Writer)
        for (name, t) in tensors.reversed() { try writer.write(t, named: name) }
        try writer.finish()
        return tensors
    }

    func testRoundTripThroughTVToolReader() throws {
        let dir = TestPaths.scratchDirectory("h5-writer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.h5").path
        let long = String(repeating: "x", count: 100_000)
        let tensors = try writeSample(to: path, metadata: ["format": "pt", "note": "héllo \"quoted\"", "long": long, "a/b@c.d": "odd key"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["out.h5"], "no temporary files left")

        let reader = try Checkpoints.open(path)
        let expectedOrder = ["complex", "empty", "flags", "fp8.e4m3", "ints.i16", "ints.i32", "ints.i64", "ints.i8",
                             "ints.u16", "ints.u32", "ints.u64", "ints.u8", "scalar",
                             "unet.down.0.weight", "unet.down.2.weight", "unet.down.10.weight", "unet.mid.bf16", "unet.mid.f64"]
        XCTAssertEqual(reader.tensors.map(\.name), expectedOrder)
        for (name, t) in tensors {
            let back = try reader.tensor(named: name)
            XCTAssertEqual(back.dtype, t.dtype, name)
            XCTAssertEqual(back.shape, t.shape, name)
            XCTAssertEqual(h5Hex(back.storage.buffer), h5Hex(t.storage.buffer), name)
        }
        XCTAssertEqual(reader.metadata["format"], "pt")
        XCTAssertEqual(reader.metadata["note"], "héllo \"quoted\"")
        XCTAssertEqual(reader.metadata["long"], long)
        XCTAssertEqual(reader.metadata["a/b@c.d"], "odd key")
        XCTAssertEqual(reader.metadata.count, 5, "\(reader.metadata.keys)")  // + fp8.e4m3@dtype
        XCTAssertEqual(reader.metadata["fp8.e4m3@dtype"], "F8_E4M3")
    }

    /// h5py (bundling its own HDF5) must read every dataset with identical values: F16 as
    /// float16, BF16 as float32 (exactly the widened bits), bool as bool, C64 as complex64.
    func testH5pyReadsIdenticalValues() throws {
        guard let python = TestPaths.python(with: ["h5py", "numpy"]) else {
            throw XCTSkip("python3 with h5py and numpy not found: h5py cross-check skipped")
        }
        let dir = TestPaths.scratchDirectory("h5-writer-py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.h5").path
        let tensors = try writeSample(to: path, metadata: ["format": "pt", "origin": "tvtool"])
        let script = """
            import json, sys, h5py, numpy as np
            out = {"datasets": {}, "attrs": {}}
            with h5py.File(sys.argv[1], "r") as f:
                def visit(name, obj):
                    if isinstance(obj, h5py.Dataset):
                        a = obj[()]
                        a = np.asarray(a)
                        le = a.astype(a.dtype.newbyteorder("<")) if a.dtype.byteorder == ">" else a
                        d = {"dtype": a.dtype.name, "shape": list(a.shape),
                             "hex": np.ascontiguousarray(le).tobytes().hex()}
                        t = obj.id.get_type()
                        if t.get_class() == h5py.h5t.FLOAT and t.get_size() == 2:
                            # the stored bits, read with memory type = file type (no conversion)
                            raw = np.zeros(a.shape, dtype="<u2")
                            obj.id.read(h5py.h5s.ALL, h5py.h5s.ALL, raw, mtype=t)
                            d["raw"] = raw.tobytes().hex()
                            d["fields"] = list(t.get_fields()) + [t.get_ebias()]
                        out["datasets"][name] = d
                f.visititems(visit)
                out["attrs"] = {k: (v if isinstance(v, str) else repr(v)) for k, v in f.attrs.items()}
            print(json.dumps(out))
            """
        let r = try TestPaths.runPython(python, script: script, arguments: [path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let data = r.stdout
        struct Dump: Decodable {
            struct D: Decodable { let dtype: String; let shape: [Int]; let hex: String; let raw: String?; let fields: [Int]? }
            let datasets: [String: D]
            let attrs: [String: String]
        }
        let dump = try JSONDecoder().decode(Dump.self, from: data)
        XCTAssertEqual(dump.attrs, ["format": "pt", "origin": "tvtool"])
        XCTAssertEqual(dump.datasets.count, tensors.count)
        let numpyNames: [DType: String] = [.f32: "float32", .f16: "float16", .bf16: "float32", .f64: "float64",
                                           .i8: "int8", .u8: "uint8", .i16: "int16", .u16: "uint16", .i32: "int32",
                                           .u32: "uint32", .i64: "int64", .u64: "uint64", .bool: "bool",
                                           .c64: "complex64", .f8e4m3: "uint8"]
        for (name, t) in tensors {
            let key = name.replacingOccurrences(of: ".", with: "/")
            guard let d = dump.datasets[key] else { XCTFail("h5py does not see \(key)"); continue }
            XCTAssertEqual(d.dtype, numpyNames[t.dtype], name)
            XCTAssertEqual(d.shape, t.shape, name)
            if t.dtype == .bf16 {
                // h5py widens to float32 through libhdf5, which turns every NaN into 0x7fffffff:
                // compare the values NaN-aware and the stored bits exactly.
                XCTAssertEqual(d.raw, h5Hex(t.storage.buffer), name)
                XCTAssertEqual(d.fields, [15, 7, 8, 0, 7, 127])
                let values = try t.floats()
                let got = Self.floats(fromHex: d.hex)
                XCTAssertEqual(got.count, values.count)
                for (x, y) in zip(got, values) { XCTAssertTrue(x == y || (x.isNaN && y.isNaN), "\(name): \(x) vs \(y)") }
                continue
            }
            if t.dtype == .f16 {
                XCTAssertEqual(d.raw, h5Hex(t.storage.buffer), name)
                XCTAssertEqual(d.fields, [15, 10, 5, 0, 10, 15])
            }
            XCTAssertEqual(d.hex, h5Hex(t.storage.buffer), name)
        }
    }

    static func floats(fromHex hex: String) -> [Float] {
        let bytes = stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
            let start = hex.index(hex.startIndex, offsetBy: i)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
        }
        return stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
    }

    func testNameRules() throws {
        let cases: [([String], HDF5Error)] = [
            (["a", "a.b"], .nameConflict(path: "x.h5", dataset: "a", group: "a.b")),
            (["a.b.c", "a.b"], .nameConflict(path: "x.h5", dataset: "a.b", group: "a.b.c")),
            (["a..b"], .invalidName(path: "x.h5", name: "a..b", reason: "it has an empty part between dots")),
            ([".a"], .invalidName(path: "x.h5", name: ".a", reason: "it has an empty part between dots")),
            (["a/b"], .invalidName(path: "x.h5", name: "a/b", reason: "'/' is HDF5's path separator")),
            ([""], .invalidName(path: "x.h5", name: "", reason: "the name is empty")),
            (["a", "a"], .duplicateTensor(path: "x.h5", tensor: "a")),
        ]
        for (names, error) in cases {
            XCTAssertThrowsError(try HDF5WriteLayout(names: names, file: "x.h5"), "\(names)") { XCTAssertEqual($0 as? HDF5Error, error) }
        }
        let ok = try HDF5WriteLayout(names: ["a.b.c", "a.d", "e"], file: "x.h5")
        XCTAssertEqual(ok.groups, ["a", "a/b"])
        XCTAssertEqual(ok.datasets["a.b.c"], "a/b/c")
    }

    func testConflictIsReportedBeforeAnyFileIsCreated() throws {
        let dir = TestPaths.scratchDirectory("h5-writer-conflict")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("c.h5").path
        let infos = [TensorInfo(name: "a", dtype: .f32, shape: [1]), TensorInfo(name: "a.b", dtype: .f32, shape: [1])]
        XCTAssertThrowsError(try HDF5Writer(path: path, tensors: infos, metadata: [:]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
        XCTAssertThrowsError(try HDF5Writer(path: path, tensors: [TensorInfo(name: "q", dtype: .f4, shape: [2])], metadata: [:])) {
            XCTAssertEqual($0 as? HDF5Error, .unsupportedDType(path: path, tensor: "q", dtype: .f4))
        }
    }

    func testAbortAndMisuseLeaveNoFile() throws {
        let dir = TestPaths.scratchDirectory("h5-writer-abort")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("a.h5").path
        let infos = [TensorInfo(name: "w", dtype: .f32, shape: [2]), TensorInfo(name: "v", dtype: .f32, shape: [1])]
        do {
            let writer = try HDF5Writer(path: path, tensors: infos, metadata: [:])
            XCTAssertThrowsError(try writer.write(try .fromFloats([1], shape: [1]), named: "w")) {
                XCTAssertEqual($0 as? HDF5Error, .mismatch(path: path, tensor: "w", declared: "F32 [2]", got: "F32 [1]"))
            }
            XCTAssertThrowsError(try writer.write(try .fromFloats([1], shape: [1]), named: "zz")) {
                XCTAssertEqual($0 as? HDF5Error, .undeclaredTensor(path: path, tensor: "zz"))
            }
            try writer.write(try .fromFloats([1, 2], shape: [2]), named: "w")
            XCTAssertThrowsError(try writer.write(try .fromFloats([1, 2], shape: [2]), named: "w"))
            XCTAssertThrowsError(try writer.finish()) {
                XCTAssertEqual($0 as? HDF5Error, .missingTensors(path: path, names: ["v"]))
            }
            // dropped here without finish(): deinit removes the temporary file
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])

        let writer = try HDF5Writer(path: path, tensors: infos, metadata: [:])
        try writer.write(try .fromFloats([1, 2], shape: [2]), named: "w")
        writer.abort()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
        XCTAssertThrowsError(try writer.finish())
    }

    func testReaderAndWriterAgreeOnKerasFixtureNames() throws {
        // A Keras 2 file converted to tvtool's HDF5 layout keeps its readable names.
        let reader = try HDF5Reader(path: TestPaths.fixture("hdf5/keras2.h5"))
        let dir = TestPaths.scratchDirectory("h5-writer-keras")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("k.h5").path
        let writer = try HDF5Writer(path: path, tensors: reader.tensors, metadata: reader.metadata)
        for info in reader.tensors { try writer.write(try reader.tensor(named: info.name), named: info.name) }
        try writer.finish()
        let back = try HDF5Reader(path: path)
        XCTAssertEqual(back.tensors, reader.tensors)
        XCTAssertNil(back.layoutDescription, "Keras attributes carried as metadata text do not make a Keras layout")
        XCTAssertEqual(back.metadata, reader.metadata)
        for info in reader.tensors {
            let a = try back.tensor(named: info.name), b = try reader.tensor(named: info.name)
            XCTAssertEqual(h5Hex(a.storage.buffer), h5Hex(b.storage.buffer), info.name)
        }
    }
}

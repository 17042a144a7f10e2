import Foundation
import XCTest

/// `tvtool inspect` / `convert` on HDF5 inputs, run as the built binary.
final class HDF5CommandTests: XCTestCase {
    func testInspectJSONListsKeras3NamesAndNotes() throws {
        let r = try TVToolBinary.run(["inspect", "--json", TestPaths.fixture("hdf5/keras3.weights.h5")])
        XCTAssertEqual(r.status, 0, r.stderr)
        struct Listing: Decodable {
            struct T: Decodable { let name: String; let dtype: String }
            let tensors: [T]
            let notes: [String]
        }
        let listing = try JSONDecoder().decode(Listing.self, from: Data(r.stdout.utf8))
        XCTAssertEqual(listing.tensors.prefix(7).map(\.name), ["batch_normalization.0", "batch_normalization.1", "batch_normalization.2",
                                                               "batch_normalization.3", "dense.0", "dense.1", "dense_bf16.0"])
        XCTAssertEqual(listing.tensors.first { $0.name == "dense_bf16.0" }?.dtype, "BF16")
        XCTAssertTrue(listing.notes.contains { $0.hasPrefix("Keras 3") }, "\(listing.notes)")
    }

    func testCorruptInputExitsWithCode2AndOneLine() throws {
        for (name, fragment) in [("truncated.h5", "truncated"), ("not_hdf5.h5", "not an HDF5 file")] {
            let path = TestPaths.fixture("hdf5/\(name)")
            let r = try TVToolBinary.run(["inspect", path])
            XCTAssertEqual(r.status, 2, name)
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(path) && r.stderr.contains(fragment), r.stderr)
        }
    }

    /// Keras 2 → safetensors (F16), checked by the independent readers: h5py for the input,
    /// safetensors' numpy loader for the output.
    func testConvertKeras2ToSafetensorsMatchesH5py() throws {
        guard let python = TestPaths.python(with: ["h5py", "numpy", "safetensors"]) else {
            throw XCTSkip("python3 with h5py, numpy and safetensors not found: cross-check skipped")
        }
        let dir = TestPaths.scratchDirectory("h5-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = TestPaths.fixture("hdf5/keras2.h5"), output = dir.appendingPathComponent("k.safetensors").path
        let r = try TVToolBinary.run(["convert", input, output, "--dtype", "f16", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let script = """
            import sys, h5py, numpy as np
            from safetensors.numpy import load_file
            out = load_file(sys.argv[2])
            paths = {"dense.kernel": "dense/dense/kernel:0", "dense.bias": "dense/dense/bias:0",
                     "sequential.dense_2.kernel": "sequential/dense_2/kernel:0",
                     "sequential.dense_3.bias": "sequential/sequential/dense_3/bias:0",
                     "batch_normalization.gamma": "batch_normalization/gamma:0"}
            with h5py.File(sys.argv[1]) as f:
                for name, path in paths.items():
                    want = f[path][()].astype(np.float16)
                    got = out[name]
                    assert got.dtype == np.float16 and got.shape == want.shape, name
                    assert got.tobytes() == want.tobytes(), name
            assert len(out) == 8, sorted(out)
            print("ok")
            """
        let py = try TestPaths.runPython(python, script: script, arguments: [input, output])
        XCTAssertEqual(py.status, 0, py.combinedText)
        XCTAssertEqual(py.combinedText.trimmingCharacters(in: .whitespacesAndNewlines), "ok")
    }
}

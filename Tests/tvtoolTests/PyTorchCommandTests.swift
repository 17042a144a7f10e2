import Foundation
import XCTest

/// PyTorch checkpoints through the CLI: `convert model.bin model.safetensors` writes exactly the
/// bytes torch reads from the .bin (fixtures/pytorch/expected.json), malicious files exit 2.
final class PyTorchCommandTests: XCTestCase {
    /// Tensor bytes of a safetensors file, parsed by hand (independent of the library's reader).
    private func safetensorsTensors(_ path: String) throws -> [String: (dtype: String, shape: [Int], hex: String)] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8 ..< 8 + n)) as! [String: Any]
        var out: [String: (String, [Int], String)] = [:]
        for (name, value) in header where name != "__metadata__" {
            let e = value as! [String: Any]
            let offsets = e["data_offsets"] as! [Int]
            let bytes = data.subdata(in: 8 + n + offsets[0] ..< 8 + n + offsets[1])
            out[name] = (e["dtype"] as! String, e["shape"] as! [Int], bytes.map { String(format: "%02x", $0) }.joined())
        }
        return out
    }

    private func expected(_ key: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("pytorch/expected.json")))
        return (try JSONSerialization.jsonObject(with: data) as! [String: Any])[key] as! [[String: Any]]
    }

    func testConvertBinToSafetensorsKeepsTorchsBytes() throws {
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (file, key) in [("pytorch/dtypes.bin", "dtypes.bin"), ("pytorch/views.pt", "views.pt"), ("pytorch/lightning.ckpt", "lightning.ckpt")] {
            let output = dir.appendingPathComponent(key + ".safetensors").path
            let r = try TVToolBinary.run(["convert", TestPaths.fixture(file), output, "--quiet"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let got = try safetensorsTensors(output)
            let want = try expected(key)
            XCTAssertEqual(got.count, want.count, key)
            for w in want {
                let name = w["name"] as! String
                let g = try XCTUnwrap(got[name], "\(key): \(name) missing")
                XCTAssertEqual(g.dtype, w["dtype"] as? String, "\(key): \(name)")
                XCTAssertEqual(g.shape, w["shape"] as? [Int], "\(key): \(name)")
                XCTAssertEqual(g.hex, w["hex"] as? String, "\(key): \(name)")
            }
        }
    }

    func testMaliciousCheckpointExitsTwoWithoutRunningAnything() throws {
        let marker = "/tmp/tvtool-pytorch-fixture-marker"
        try? FileManager.default.removeItem(atPath: marker)
        let r = try TVToolBinary.run(["inspect", TestPaths.fixture("pytorch/evil_in_state_dict.bin")])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("posix.system"), r.stderr)
        XCTAssertEqual(r.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count, 1, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    }

    func testDiffusersFolderWithOnlyABinFile() throws {
        let r = try TVToolBinary.run(["inspect", TestPaths.fixture("pytorch/diffusers_unet"), "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("conv_in.weight"), r.stdout)
    }
}

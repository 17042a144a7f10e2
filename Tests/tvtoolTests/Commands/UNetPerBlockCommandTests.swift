import Foundation
import TestSupport
import TVStorage
import XCTest

/// Per-block merging of UNets (the `unet` layer groups chosen by `auto`) through deme and search,
/// and deme's diffusers-folder outputs loaded by diffusers itself.
final class UNetPerBlockCommandTests: XCTestCase {
    func run(_ args: [String], in dir: URL) throws -> TVToolBinary.Result { try UNetCommandsTests.run(args, in: dir) }

    func testDeMeOnAUNetMergesPerBlockAndWritesFoldersDiffusersLoads() throws {
        let dir = TestPaths.scratchDirectory("unet-deme-block")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try UNetCommandsTests.writeData(dir)
        let r = try run(["deme", "--pretrain-steps", "6", "--no-projections", "--merge-granularity", "block", "--block-grid", "0:1:3",
                         "--data", data, "--ranges", "2", "--steps-per-range", "3", "--batch", "4", "--grid", "0,1", "--refine", "0",
                         "--fd-seeds", "", "--eval-timesteps", "2", "--sampling-steps", "1", "--json", "-o", "@dm"] + UNetCommandsTests.tiny, in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try UNetCommandsTests.json(r.stdout)
        let rows = try XCTUnwrap(report["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 6, "the per-model merge the block merge started from is a row too")
        let merged = try XCTUnwrap(rows.first { ($0["name"] as? String) == "DeMe merged" })
        XCTAssertTrue((merged["detail"] as? String ?? "").contains("IN, D0, D1, MID, U0, U1, OUT"), "\(merged)")
        let weights = try XCTUnwrap(merged["weights"] as? [Double])
        XCTAssertEqual(weights.count, 2 * 7, "one weight per range model and UNet group")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("dm/merged/config.json").path))

        var e = try run(["eval", "@dm/merged", "--data", data, "--fd-samples", "0", "--json"], in: dir)
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertGreaterThan(try XCTUnwrap(try UNetCommandsTests.json(e.stdout)["epsilon_mse"] as? Double), 0)
        e = try run(["eval", "@dm/finetunes/deme_range2_500_1000", "--data", data, "--fd-samples", "0", "--json"], in: dir)
        XCTAssertEqual(e.status, 0, e.stderr)

        guard let python = TestPaths.python(with: ["torch", "diffusers", "safetensors", "numpy"]) else {
            throw XCTSkip("python3 with torch and diffusers is needed to load the folders with UNet2DModel.from_pretrained")
        }
        // One Python process for the three folders (importing diffusers is the slow part).
        let folders = ["dm/merged", "dm/finetunes/deme_range1_0_500", "dm/pretrained"]
        let check = try TestPaths.runPython(python, script: """
            import sys, numpy as np
            from diffusers import UNet2DModel
            from safetensors.numpy import load_file
            for folder in sys.argv[1:]:
                model, info = UNet2DModel.from_pretrained(folder, output_loading_info=True)
                assert not any(info.values()), (folder, info)
                stored = load_file(folder + "/diffusion_pytorch_model.safetensors")
                sd = model.state_dict()
                assert set(sd) == set(stored), (folder, sorted(set(sd) ^ set(stored))[:4])
                assert all(np.array_equal(sd[k].numpy(), stored[k]) for k in sd), folder
            print("ok")
            """, arguments: folders.map { dir.appendingPathComponent($0).path })
        XCTAssertEqual(check.stdoutText, "ok\n", check.stderr)
    }

    /// search --per-block on UNet finetunes: axes per model and UNet group; the best point's
    /// in-memory value equals `eval` of the best file the engine writes from the group rules.
    func testPerBlockSearchOnUNetFinetunes() throws {
        let dir = TestPaths.scratchDirectory("unet-search-block")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try UNetCommandsTests.writeData(dir)
        try UNetCommandsTests.baseAndTwoFinetunes(dir, data: data)
        var r = try run(["search", "@base", "@a.safetensors", "@b.safetensors", "--per-block", "--grid", "0,1", "--strategy", "coord",
                     "--refine", "0", "--data", data, "--jobs", "2", "--quiet", "--json", "-o", "@search"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try UNetCommandsTests.json(r.stdout)
        let best = try XCTUnwrap(out["best"] as? [String: Any])
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("search/best.json"))) as? [String: Any])
        XCTAssertEqual(summary["axis_names"] as? [String], ["w1", "w2"].flatMap { m in ["IN", "D0", "D1", "MID", "U0", "U1", "OUT"].map { "\(m)_\($0)" } })
        let value = try XCTUnwrap(best["value"] as? Double)
        let e = try run(["eval", "@search/best.safetensors", "--data", data, "--fd-samples", "0", "--json"], in: dir)
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertEqual(try XCTUnwrap(try UNetCommandsTests.json(e.stdout)["epsilon_mse"] as? Double), value, accuracy: 1e-12 * value)
    }
}

import Foundation
import TestSupport
import TVStorage
import XCTest

/// `finetune --hflip`, `deme --hflip` and `deme --model mlp` with the MLP's block conditioning
/// (the main job's model), end to end through the binary on tiny MLPs.
final class FlipAndMLPOptionsCommandTests: XCTestCase {
    static let tinyMLP = ["--width", "16", "--blocks", "1", "--time-embedding", "8"]

    func metadata(_ path: String) throws -> [String: String] { try Checkpoints.open(path).metadata }

    func floats(_ path: String) throws -> [Float] {
        let r = try Checkpoints.open(path)
        return try r.tensors.map(\.name).sorted().flatMap { try r.tensor(named: $0).floats() }
    }

    func testFinetuneFlipsTrainingImagesAndRecordsIt() throws {
        let dir = TestPaths.scratchDirectory("cli-finetune-hflip")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try UNetCommandsTests.writeData(dir)
        let base = dir.appendingPathComponent("m.safetensors").path
        var r = try TVToolBinary.run(["train", "--data", data, "--steps", "5", "--batch", "8", "--quiet", "-o", base] + Self.tinyMLP)
        XCTAssertEqual(r.status, 0, r.stderr)
        var outputs: [String] = []
        for flip in [false, true] {
            let out = dir.appendingPathComponent(flip ? "flip.safetensors" : "plain.safetensors").path
            r = try TVToolBinary.run(["finetune", base, "--data", data, "--t-range", "0:500", "--steps", "4", "--batch", "8",
                                      "--lr", "1e-2", "--ema-decay", "0", "-o", out] + (flip ? ["--hflip"] : []))
            XCTAssertEqual(r.status, 0, r.stderr)
            outputs.append(out)
        }
        let plainOptions = try XCTUnwrap(try metadata(outputs[0])["tvtool.deme_finetune"])
        let flipOptions = try XCTUnwrap(try metadata(outputs[1])["tvtool.deme_finetune"])
        // Off: the recorded options keep the bytes they had before the option existed.
        XCTAssertFalse(plainOptions.contains("horizontalFlip"), plainOptions)
        XCTAssertTrue(flipOptions.contains("\"horizontalFlip\":true"), flipOptions)
        // Same seed, same batches: only the flips differ, and they change what is learned.
        XCTAssertNotEqual(try floats(outputs[0]), try floats(outputs[1]))
    }

    func testDeMePretrainsTheBlockConditionedMLPWithFlips() throws {
        let dir = TestPaths.scratchDirectory("cli-deme-mlp-blocks")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try UNetCommandsTests.writeData(dir)
        let out = dir.appendingPathComponent("dm").path
        let pipeline = ["--data", data, "--ranges", "2", "--steps-per-range", "2", "--batch", "4", "--grid", "0,1", "--refine", "0",
                        "--fd-seeds", "", "--eval-timesteps", "2", "--sampling-steps", "1", "--json", "-o", out]
        var r = try TVToolBinary.run(["deme", "--model", "mlp", "--time-conditioning", "per-block", "--block-norm", "layer",
                                      "--pretrain-steps", "3", "--hflip"] + Self.tinyMLP + pipeline)
        XCTAssertEqual(r.status, 0, r.stderr)
        let pretrained = out + "/pretrained.safetensors"
        let meta = try metadata(pretrained)
        let config = try XCTUnwrap(meta["tvtool.model_config"])
        XCTAssertTrue(config.contains("\"timeConditioning\":\"per_block\""), config)
        XCTAssertTrue(config.contains("\"blockNorm\":\"layer\""), config)
        XCTAssertTrue(config.contains("\"timeEmbedding\":8"), config)
        let names = Set(try Checkpoints.open(pretrained).tensors.map(\.name))
        XCTAssertTrue(names.contains("blocks.0.time_emb_proj.weight") && names.contains("blocks.0.norm.weight"), "\(names.sorted())")
        XCTAssertTrue(meta["tvtool.training_settings"]?.contains("\"horizontalFlip\":true") == true, meta["tvtool.training_settings"] ?? "")
        // Every finetune of the run (range models and the plain baseline) trained with flips.
        let finetunes = try FileManager.default.contentsOfDirectory(atPath: out + "/finetunes").filter {
            $0.hasSuffix(".safetensors") && ($0.hasPrefix("deme_range") || $0.hasPrefix("plain_"))
        }
        XCTAssertEqual(finetunes.count, 3, "\(finetunes)")
        for f in finetunes {
            XCTAssertTrue(try metadata(out + "/finetunes/" + f)["tvtool.deme_finetune"]?.contains("\"horizontalFlip\":true") == true, f)
        }
        // The MLP's options are usage errors with a UNet (exit 1), named.
        r = try TVToolBinary.run(["deme", "--model", "unet", "--time-conditioning", "per-block", "--dry-run", "-o", out + "2"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("--time-conditioning"), r.stderr)
        r = try TVToolBinary.run(["deme", "--model", "mlp", "--block-norm", "batch", "--dry-run", "-o", out + "2"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("--block-norm"), r.stderr)
    }
}

import Foundation
import XCTest
import TVStorage

/// `tvtool lora bake|extract` through the built binary: exit codes, JSON report, no output on error.
final class LoRACommandTests: XCTestCase {
    func fixture(_ name: String) -> String { TestPaths.fixture("lora/" + name) }

    func testExtractJSONAndBakeRoundTrip() throws {
        let dir = TestPaths.scratchDirectory("lora-cli")
        let lora = dir.appendingPathComponent("l.safetensors").path
        let r = try TVToolBinary.run(["lora", "extract", fixture("extract_base.safetensors"), fixture("extract_ft.safetensors"),
                                      "--rank", "3", "-o", lora, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(obj["energy"] as! Double, 0.700565720013448, accuracy: 1e-9)
        XCTAssertEqual((obj["tensors"] as! [[String: Any]]).count, 6)
        XCTAssertEqual(obj["left_out"] as? [String], ["down_blocks.0.resnets.0.conv1.bias"])
        let names = try Checkpoints.open(lora).tensors.map(\.name)
        XCTAssertTrue(names.contains("lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight"), "\(names)")
        XCTAssertEqual(try Checkpoints.open(lora).info(named: "lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight")?.shape, [3, 4, 3, 3])
        let baked = dir.appendingPathComponent("b.safetensors").path
        let b = try TVToolBinary.run(["lora", "bake", fixture("extract_base.safetensors"), lora, "--scale", "1", "-o", baked, "--json"])
        XCTAssertEqual(b.status, 0, b.stderr)
    }

    func testUsageAndInputErrors() throws {
        let out = TestPaths.scratchDirectory("lora-cli").appendingPathComponent("o.safetensors").path
        let rank0 = try TVToolBinary.run(["lora", "extract", fixture("extract_base.safetensors"), fixture("extract_ft.safetensors"), "--rank", "0", "-o", out])
        XCTAssertEqual(rank0.status, 1, rank0.stderr)
        let format = try TVToolBinary.run(["lora", "extract", fixture("extract_ft.safetensors"), "--rank", "2", "--format", "lycoris", "-o", out])
        XCTAssertEqual(format.status, 1, format.stderr)
        let unmatched = try TVToolBinary.run(["lora", "bake", fixture("model_diffusers.safetensors"), fixture("kohya_unmatched.safetensors"), "-o", out])
        XCTAssertEqual(unmatched.status, 2)
        XCTAssertTrue(unmatched.stderr.contains("matches no tensor"), unmatched.stderr)
        XCTAssertEqual(unmatched.stderr.split(separator: "\n").count, 1)
        let allowed = try TVToolBinary.run(["lora", "bake", fixture("model_diffusers.safetensors"), fixture("kohya_unmatched.safetensors"),
                                            "--allow-unmatched", "-o", out])
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
        XCTAssertTrue(allowed.stderr.contains("warning: LoRA module 'lora_unet_down_blocks_9_attentions_0_proj_in'"), allowed.stderr)
        let notLoRA = try TVToolBinary.run(["lora", "bake", fixture("model_diffusers.safetensors"), fixture("model_single.safetensors"), "-o", out + "2"])
        XCTAssertEqual(notLoRA.status, 2)
        XCTAssertTrue(notLoRA.stderr.contains("is not a LoRA key"), notLoRA.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "2"))
    }
}

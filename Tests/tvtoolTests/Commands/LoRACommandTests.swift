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
        let dora = try TVToolBinary.run(["lora", "bake", fixture("model_diffusers.safetensors"), fixture("dora.safetensors"), "-o", out + "3"])
        XCTAssertEqual(dora.status, 2)
        XCTAssertEqual(dora.stderr.split(separator: "\n").count, 1, dora.stderr)
        XCTAssertTrue(dora.stderr.contains("is DoRA"), dora.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "3"))
    }

    /// kohya and diffusers/PEFT-named LoRAs with UNet and text-encoder modules, baked by the CLI onto
    /// the SD 1.5 single file and onto the same model as a diffusers pipeline folder; numpy computes
    /// W + s·(α/r)·up@down from the input files and checks every other tensor is unchanged.
    func testBakeOntoASingleFileAndAPipelineFolderMatchesNumpy() throws {
        guard let python = TestPaths.python(with: ["numpy", "safetensors"]) else {
            throw XCTSkip("python3 with numpy and safetensors not found: cross-check skipped")
        }
        let dir = TestPaths.scratchDirectory("lora-sd-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let single = TestPaths.fixture("stable_diffusion/sd15.safetensors"), pipe = dir.appendingPathComponent("pipe").path
        XCTAssertEqual(try TVToolBinary.run(["convert", single, pipe + "/", "--layout", "diffusers", "--quiet"]).status, 0)
        let toK = "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k", q = "text_model.encoder.layers.0.self_attn.q_proj"
        func values(_ n: Int, _ seed: Int) -> [Float] { (0..<n).map { Float(($0 * 7 + seed) % 11) / 11 - 0.45 } }
        let kohyaU = "lora_unet_" + toK.replacingOccurrences(of: ".", with: "_"), kohyaT = "lora_te_" + q.replacingOccurrences(of: ".", with: "_")
        let namings: [(file: String, tensors: [(String, Tensor)], unetAlpha: Double, teAlpha: Double, keys: [String])] = [
            ("kohya.safetensors", [(kohyaU + ".lora_down.weight", try Tensor.fromFloats(values(16, 1), shape: [2, 8])),
                                   (kohyaU + ".lora_up.weight", try Tensor.fromFloats(values(8, 2), shape: [4, 2])),
                                   (kohyaU + ".alpha", try Tensor.fromFloats([1], shape: [])),
                                   (kohyaT + ".lora_down.weight", try Tensor.fromFloats(values(16, 3), shape: [2, 8])),
                                   (kohyaT + ".lora_up.weight", try Tensor.fromFloats(values(16, 4), shape: [8, 2])),
                                   (kohyaT + ".alpha", try Tensor.fromFloats([4], shape: []))], 1, 4,
             [kohyaU + ".lora_down.weight", kohyaU + ".lora_up.weight", kohyaT + ".lora_down.weight", kohyaT + ".lora_up.weight"]),
            ("peft.safetensors", [("unet." + toK + ".lora_A.weight", try Tensor.fromFloats(values(16, 5), shape: [2, 8])),
                                  ("unet." + toK + ".lora_B.weight", try Tensor.fromFloats(values(8, 6), shape: [4, 2])),
                                  ("text_encoder." + q + ".lora_A.weight", try Tensor.fromFloats(values(16, 7), shape: [2, 8])),
                                  ("text_encoder." + q + ".lora_B.weight", try Tensor.fromFloats(values(16, 8), shape: [8, 2]))], 2, 2,
             ["unet." + toK + ".lora_A.weight", "unet." + toK + ".lora_B.weight", "text_encoder." + q + ".lora_A.weight", "text_encoder." + q + ".lora_B.weight"]),
        ]
        var checks: [[String: Any]] = []
        for n in namings {
            let lora = dir.appendingPathComponent(n.file).path
            try Checkpoints.save(n.tensors, to: lora, metadata: [:])
            let outFile = dir.appendingPathComponent("single-" + n.file).path, outDir = dir.appendingPathComponent("pipe-" + n.file).path
            for (model, out) in [(single, outFile), (pipe, outDir + "/")] {
                let r = try TVToolBinary.run(["lora", "bake", model, lora, "--scale", "0.6", "-o", out, "--json"])
                XCTAssertEqual(r.status, 0, r.stderr)
                let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
                XCTAssertEqual((report?["baked"] as? [String])?.count, 2, r.stdout)
            }
            XCTAssertTrue(FileManager.default.fileExists(atPath: outDir + "/unet/config.json"))
            XCTAssertTrue(FileManager.default.fileExists(atPath: outDir + "/model_index.json"))
            let targets = [(single, outFile, "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", 0, n.unetAlpha),
                           (single, outFile, "cond_stage_model.transformer." + q + ".weight", 2, n.teAlpha),
                           (pipe + "/unet/diffusion_pytorch_model.safetensors", outDir + "/unet/diffusion_pytorch_model.safetensors", toK + ".weight", 0, n.unetAlpha),
                           (pipe + "/text_encoder/model.safetensors", outDir + "/text_encoder/model.safetensors", q + ".weight", 2, n.teAlpha)]
            for (model, out, tensor, k, alpha) in targets {
                checks.append(["model": model, "out": out, "tensor": tensor, "lora": lora, "down": n.keys[k], "up": n.keys[k + 1], "alpha": alpha])
            }
        }
        let script = """
            import json, sys
            import numpy as np
            from safetensors.numpy import load_file
            checks = json.loads(sys.argv[1])
            changed = {}
            for c in checks:
                m, o, l = load_file(c["model"]), load_file(c["out"]), load_file(c["lora"])
                down, up = l[c["down"]].astype(np.float64), l[c["up"]].astype(np.float64)
                want = m[c["tensor"]].astype(np.float64) + 0.6 * c["alpha"] / down.shape[0] * (up @ down)
                assert np.abs(o[c["tensor"]] - want).max() < 1e-5, c["tensor"]
                changed.setdefault((c["model"], c["out"]), set()).add(c["tensor"])
            for (model, out), names in changed.items():
                m, o = load_file(model), load_file(out)
                assert set(m) == set(o), out
                for k in m:
                    if k not in names:
                        assert m[k].dtype == o[k].dtype and np.array_equal(m[k], o[k]), (out, k)
            print("ok")
            """
        let json = String(decoding: try JSONSerialization.data(withJSONObject: checks), as: UTF8.self)
        let py = try TestPaths.runPython(python, script: script, arguments: [json])
        XCTAssertEqual(py.status, 0, py.combinedText)
        XCTAssertTrue(py.stdoutText.hasSuffix("ok\n"), py.combinedText)
    }
}

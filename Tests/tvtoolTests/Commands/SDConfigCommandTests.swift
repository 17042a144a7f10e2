import XCTest
import TVStorage

/// `convert SINGLE_FILE OUT/ --layout diffusers` writes the configs diffusers needs. Oracle: diffusers
/// and transformers themselves (when installed) load each component with `from_pretrained` and
/// report no missing, unexpected or mismatched keys, the loaded tensors equal what diffusers' own
/// single-file conversion gave (the CRC-32 table of fixtures/stable_diffusion), and the values read
/// from the shapes equal those make.py built the fixtures with.
final class SDConfigCommandTests: XCTestCase {
    let fm = FileManager.default
    func fixture(_ name: String) -> String { TestPaths.fixture("stable_diffusion/" + name) }

    private func convert(_ file: String, _ out: String, _ extra: [String] = []) throws -> TVToolBinary.Result {
        try TVToolBinary.run(["convert", fixture(file + ".safetensors"), out, "--layout", "diffusers", "--quiet"] + extra)
    }

    private func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any], path)
    }

    /// Regression (review): a weight the inference reads with fewer than 2 dimensions indexed its
    /// shape out of range and crashed `convert --layout diffusers`; now exit 2, one line, no output.
    func testAWeightWithTooFewDimensionsIsBadInput() throws {
        let dir = TestPaths.scratchDirectory("sd-config-rank")
        defer { try? fm.removeItem(at: dir) }
        let single = try SafetensorsReader(path: fixture("sd15.safetensors"))
        let target = "model.diffusion_model.input_blocks.0.0.weight"  // the UNet's conv_in
        XCTAssertTrue(single.tensors.contains { $0.name == target })
        let tensors = try single.tensors.map { info -> (String, Tensor) in
            let t = try single.tensor(named: info.name)
            return info.name == target ? (info.name, try Tensor.fromFloats([Float](repeating: 0, count: 3), shape: [3])) : (info.name, t)
        }
        let bad = dir.appendingPathComponent("bad.safetensors").path
        try Checkpoints.save(tensors, to: bad, metadata: [:])
        let out = dir.appendingPathComponent("out").path
        let r = try TVToolBinary.run(["convert", bad, out, "--layout", "diffusers", "--quiet"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("unet.conv_in.weight") && r.stderr.contains("dimension"), r.stderr)
        XCTAssertFalse(fm.fileExists(atPath: out))
    }

    func testInferredConfigsDescribeTheWeights() throws {
        let dir = TestPaths.scratchDirectory("sd-config")
        defer { try? fm.removeItem(at: dir) }
        for (file, v2) in [("sd15", false), ("sd21", true)] {
            let out = dir.appendingPathComponent(file).path
            let r = try convert(file, out)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stderr.contains("prediction type \(v2 ? "v_prediction" : "epsilon") is not in the weights"), r.stderr)
            // Regression: a reader's note that names the file was printed as "warning: X: X: …".
            XCTAssertTrue(r.stderr.contains("tensor(s) outside the UNet, VAE and text encoder"), r.stderr)
            for line in r.stderr.split(separator: "\n") {
                XCTAssertLessThanOrEqual(line.components(separatedBy: fixture(file + ".safetensors")).count - 1, 1, String(line))
            }
            let unet = try json(out + "/unet/config.json"), vae = try json(out + "/vae/config.json")
            let text = try json(out + "/text_encoder/config.json"), sched = try json(out + "/scheduler/scheduler_config.json")
            // make.py: block_out_channels (4, 8, 8, 8), 2 layers, cross-attention width 8, 3 cross-attention levels.
            XCTAssertEqual(unet["block_out_channels"] as? [Int], [4, 8, 8, 8])
            XCTAssertEqual(unet["layers_per_block"] as? Int, 2)
            XCTAssertEqual(unet["cross_attention_dim"] as? Int, 8)
            XCTAssertEqual(unet["use_linear_projection"] as? Bool, v2)
            XCTAssertEqual(unet["down_block_types"] as? [String], ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"])
            XCTAssertEqual(unet["up_block_types"] as? [String], ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"])
            XCTAssertEqual(vae["block_out_channels"] as? [Int], [4, 8, 8, 8])
            XCTAssertEqual(vae["latent_channels"] as? Int, 4)
            XCTAssertEqual(text["hidden_size"] as? Int, 8)
            XCTAssertEqual(text["intermediate_size"] as? Int, 16)
            XCTAssertEqual(text["vocab_size"] as? Int, 32)
            XCTAssertEqual(text["num_hidden_layers"] as? Int, v2 ? 23 : 12)  // SD 2.x: OpenCLIP's penultimate layer
            XCTAssertEqual(text["hidden_act"] as? String, v2 ? "gelu" : "quick_gelu")
            // make.py's betas: linspace(√0.00085, √0.012, 1000)², stored as f32.
            XCTAssertEqual(sched["num_train_timesteps"] as? Int, 1000)
            XCTAssertEqual(try XCTUnwrap(sched["beta_start"] as? Double), 0.00085, accuracy: 1e-9)
            XCTAssertEqual(try XCTUnwrap(sched["beta_end"] as? Double), 0.012, accuracy: 1e-9)
            XCTAssertEqual(sched["prediction_type"] as? String, v2 ? "v_prediction" : "epsilon")
            let index = try json(out + "/model_index.json")
            XCTAssertEqual(index["unet"] as? [String], ["diffusers", "UNet2DConditionModel"])
            if v2 {
                let te = try Checkpoints.open(out + "/text_encoder")
                XCTAssertFalse(te.tensors.contains { $0.name.contains("layers.23.") || $0.name == "text_projection" })
            }
        }
    }

    func testDiffusersLoadsTheConvertedPipelineWithoutMissingOrUnexpectedKeys() throws {
        guard let python = TestPaths.python(with: ["torch", "diffusers", "transformers", "safetensors"]) else {
            throw XCTSkip("python3 with torch, diffusers and transformers not found: from_pretrained check skipped")
        }
        let dir = TestPaths.scratchDirectory("sd-config-py")
        defer { try? fm.removeItem(at: dir) }
        let script = """
            import json, sys, zlib, logging
            import torch
            from diffusers import UNet2DConditionModel, AutoencoderKL
            from transformers import CLIPTextModel
            out, table = sys.argv[1], json.load(open(sys.argv[2]))
            for cls, sub in ((UNet2DConditionModel, "unet"), (AutoencoderKL, "vae"), (CLIPTextModel, "text_encoder")):
                model, info = cls.from_pretrained(out, subfolder=sub, output_loading_info=True)
                bad = {k: v for k, v in info.items() if v}
                assert not bad, (sub, bad)
                sd = model.state_dict()
                if sub == "text_encoder":
                    sd = {k if k.startswith("text_model.") else "text_model." + k: v for k, v in sd.items()}
                n = 0
                for k, v in sd.items():
                    if "position_ids" in k:
                        continue
                    want = table[sub + "." + k]
                    assert list(v.shape) == want["shape"], (sub, k)
                    assert zlib.crc32(v.contiguous().view(torch.uint8).numpy().tobytes()) == want["crc32"], (sub, k)
                    n += 1
                assert n == sum(1 for k in table if k.startswith(sub + ".") and "position_ids" not in k), (sub, n)
            print("ok")
            """
        for file in ["sd15", "sd21"] {
            let out = dir.appendingPathComponent(file).path
            let r = try convert(file, out)
            XCTAssertEqual(r.status, 0, r.stderr)
            let py = try TestPaths.runPython(python, script: script, arguments: [out, fixture(file + "_diffusers_expected.json")])
            XCTAssertEqual(py.status, 0, file + ": " + py.combinedText)
            XCTAssertTrue(py.stdoutText.hasSuffix("ok\n"), py.combinedText)
        }
    }

    func testConfigFromCopiesAReferenceAndRefusesAnotherModelShape() throws {
        let dir = TestPaths.scratchDirectory("sd-config-ref")
        defer { try? fm.removeItem(at: dir) }
        let ref15 = dir.appendingPathComponent("ref15").path, ref21 = dir.appendingPathComponent("ref21").path
        XCTAssertEqual(try convert("sd15", ref15).status, 0)
        XCTAssertEqual(try convert("sd21", ref21, ["--prediction-type", "epsilon"]).status, 0)
        XCTAssertEqual(try json(ref21 + "/scheduler/scheduler_config.json")["prediction_type"] as? String, "epsilon")
        try fm.createDirectory(atPath: ref15 + "/tokenizer", withIntermediateDirectories: true)
        try "{\"a\": 1}".write(toFile: ref15 + "/tokenizer/vocab.json", atomically: true, encoding: .utf8)
        try "{\"_class_name\": \"UNet2DConditionModel\", \"in_channels\": 4, \"out_channels\": 4, \"block_out_channels\": [4, 8, 8, 8], \"layers_per_block\": 2, \"cross_attention_dim\": 8, \"down_block_types\": [\"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\", \"DownBlock2D\"], \"up_block_types\": [\"UpBlock2D\", \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\"], \"attention_head_dim\": 2, \"norm_num_groups\": 2}"
            .write(toFile: ref15 + "/unet/config.json", atomically: true, encoding: .utf8)

        let out = dir.appendingPathComponent("out").path
        let r = try convert("sd15", out, ["--config-from", ref15])
        XCTAssertEqual(r.status, 0, r.stderr)
        for f in ["unet/config.json", "vae/config.json", "model_index.json", "tokenizer/vocab.json", "scheduler/scheduler_config.json"] {
            XCTAssertEqual(fm.contents(atPath: out + "/" + f), fm.contents(atPath: ref15 + "/" + f), f)
        }
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: out + "/unet").sorted(), ["config.json", "diffusion_pytorch_model.safetensors"])

        // SD 2.x configs for SD 1.x weights: one line naming the file and the field, exit 2, nothing written.
        let bad = dir.appendingPathComponent("bad").path
        let e = try convert("sd15", bad, ["--config-from", ref21])
        XCTAssertEqual(e.status, 2, e.stderr)
        XCTAssertEqual(e.stderr.split(separator: "\n").filter { !$0.hasPrefix("warning:") }.count, 1, e.stderr)
        XCTAssertTrue(e.stderr.contains(ref21 + "/unet/config.json") && e.stderr.contains("use_linear_projection"), e.stderr)
        XCTAssertFalse(fm.fileExists(atPath: bad))
        let missing = try convert("sd15", bad, ["--config-from", dir.path])
        XCTAssertEqual(missing.status, 2, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("config.json"), missing.stderr)

        for args in [["--prediction-type", "sample"], ["--prediction-type", "epsilon", "--config-from", ref15]] {
            let u = try convert("sd15", bad, args)
            XCTAssertEqual(u.status, 1, u.stderr)
        }
        XCTAssertFalse(fm.fileExists(atPath: bad))
    }
}

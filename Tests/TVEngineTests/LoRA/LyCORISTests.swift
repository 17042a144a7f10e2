import Foundation
import XCTest
import TVStorage
@testable import TVEngine

/// LyCORIS LoHa / LoKr baking and SD 2.x text-encoder LoRAs on OpenCLIP's fused q/k/v, against
/// numpy (fixtures/lora/make.py, written from LyCORIS' formulas as A1111 and ComfyUI apply them:
/// einsum for the Tucker cores, np.kron for LoKr), plus the refusals.
final class LyCORISTests: XCTestCase {
    func fixture(_ name: String) -> String { TestPaths.fixture("lora/" + name) }
    func open(_ name: String) throws -> any CheckpointReader { try Checkpoints.open(fixture(name)) }
    func scratch(_ name: String) -> String { TestPaths.scratchDirectory("lycoris").appendingPathComponent(name).path }

    /// Every tensor of `got` equals `want` (F16 within one rounding), and `changed` tensors differ from the model.
    func assertBaked(_ got: String, _ want: String, model: String, changed: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let g = try Checkpoints.open(got), w = try open(want), m = try open(model)
        XCTAssertEqual(Set(g.tensors.map(\.name)), Set(w.tensors.map(\.name)), file: file, line: line)
        var differ = 0
        for t in w.tensors where t.dtype.supportsArithmetic {
            let a = try g.tensor(named: t.name).doubles(), b = try w.tensor(named: t.name).doubles()
            let tol = (t.dtype == .f16 ? 1e-3 : 1e-6) * (1 + (b.map(abs).max() ?? 0))
            for i in b.indices { XCTAssertEqual(a[i], b[i], accuracy: tol, "\(t.name)[\(i)]", file: file, line: line) }
            if try m.tensor(named: t.name).doubles() != b { differ += 1 }
        }
        XCTAssertEqual(differ, changed, "tensors the LoRA changes", file: file, line: line)
    }

    func testLoHaAndLoKrMatchNumpy() throws {
        for (lora, expected, changed) in [("loha.safetensors", "expected_loha.safetensors", 3), ("lokr.safetensors", "expected_lokr.safetensors", 4)] {
            let out = scratch("baked.safetensors")
            let r = try LoRABaker.bake(model: open("model_diffusers.safetensors"), lora: open(lora), scale: 0.7, output: out)
            XCTAssertEqual(r.baked.count, changed, lora)
            try assertBaked(out, expected, model: "model_diffusers.safetensors", changed: changed)
        }
        // LoHa onto the single file through the SD key map.
        let out = scratch("single.safetensors")
        let r = try LoRABaker.bake(model: open("model_single.safetensors"), lora: open("loha.safetensors"), scale: 0.7, output: out)
        XCTAssertEqual(r.baked.sorted(), ["model.diffusion_model.input_blocks.1.0.in_layers.2.weight", "model.diffusion_model.input_blocks.1.0.skip_connection.weight",
                                          "model.diffusion_model.input_blocks.1.1.proj_in.weight"])
        let want = try open("expected_loha.safetensors").tensor(named: "down_blocks.0.resnets.0.conv1.weight").doubles()
        let got = try Checkpoints.open(out).tensor(named: "model.diffusion_model.input_blocks.1.0.in_layers.2.weight").doubles()
        for i in want.indices { XCTAssertEqual(got[i], want[i], accuracy: 1e-6 * (1 + abs(want[i]))) }
    }

    func testSD2TextEncoderLoRAsBakeOntoTheFusedInProjRows() throws {
        for name in ["kohya_sd2_te.safetensors", "diffusers_sd2_te.safetensors"] {
            let out = scratch("sd2.safetensors")
            let r = try LoRABaker.bake(model: open("model_sd2_single.safetensors"), lora: open(name), scale: 0.7, output: out)
            XCTAssertTrue(r.unmatched.isEmpty, name)
            // in_proj of both blocks, out_proj, c_fc, the UNet proj_in; the bias and c_proj untouched.
            try assertBaked(out, "expected_" + name, model: "model_sd2_single.safetensors", changed: 5)
        }
    }

    func testRefusalsNameTheModule() throws {
        let dir = TestPaths.scratchDirectory("lycoris")
        let out = dir.appendingPathComponent("o.safetensors").path
        func bake(_ lora: String, model: String = "model_diffusers.safetensors") throws { _ = try LoRABaker.bake(model: open(model), lora: Checkpoints.open(lora), scale: 1, output: out) }
        XCTAssertThrowsError(try bake(fixture("dora.safetensors"))) {
            XCTAssertEqual("\($0)", "\(fixture("dora.safetensors")): LoRA module 'lora_unet_down_blocks_0_attentions_0_proj_in' is DoRA (weight-decomposed LoRA, dora_scale), which tvtool does not bake (LoRA, LoHa and LoKr are baked)")
        }
        func save(_ tensors: [(String, [Int])]) throws -> String {
            let p = dir.appendingPathComponent("l\(tensors.count).safetensors").path
            try? FileManager.default.removeItem(atPath: p)
            try Checkpoints.save(try tensors.map { ($0.0, try Tensor.fromFloats(Array(repeating: 0.5, count: $0.1.reduce(1, *)), shape: $0.1)) }, to: p, metadata: [:])
            return p
        }
        let k = "lora_unet_down_blocks_0_attentions_0_proj_in"
        // A LoHa without its second pair.
        XCTAssertThrowsError(try bake(try save([(k + ".hada_w1_a", [8, 2]), (k + ".hada_w1_b", [2, 6])]))) {
            XCTAssertTrue("\($0)".contains("'\(k)' has no hada_w2_a"), "\($0)")
        }
        // A LoKr whose Kronecker product is 8×9 for an 8×6 weight.
        XCTAssertThrowsError(try bake(try save([(k + ".lokr_w1", [2, 3]), (k + ".lokr_w2", [4, 3]), (k + ".alpha", [])]))) {
            XCTAssertTrue("\($0)".contains("the LoKr update is 8×9") && "\($0)".contains("down_blocks.0.attentions.0.proj_in.weight"), "\($0)")
        }
        // A q_proj LoRA whose rows do not fit the fused in_proj's third.
        let q = "lora_te_text_model_encoder_layers_0_self_attn_q_proj"
        XCTAssertThrowsError(try bake(try save([(q + ".lora_down.weight", [2, 6]), (q + ".lora_up.weight", [18, 2])]), model: "model_sd2_single.safetensors")) {
            XCTAssertTrue("\($0)".contains("rows 0..<6, its q part") && "\($0)".contains("in_proj_weight"), "\($0)")
        }
        // Two modules on the same q rows (kohya and diffusers spellings of one module).
        XCTAssertThrowsError(try bake(try save([(q + ".lora_down.weight", [2, 6]), (q + ".lora_up.weight", [6, 2]),
                                                ("text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight", [2, 6]),
                                                ("text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_B.weight", [6, 2])]), model: "model_sd2_single.safetensors")) {
            XCTAssertTrue("\($0)".contains("matches several tensors"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}

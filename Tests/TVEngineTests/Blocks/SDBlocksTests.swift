import Foundation
import XCTest
@testable import TVEngine

/// Block placement against fixtures/blocks/sd1_unet_keys.json: every tensor of a real diffusers
/// SD 1.x UNet and its single-file name, with the block supermerger's own regexes give it
/// (computed by fixtures/blocks/make.py).
final class SDBlocksTests: XCTestCase {
    struct Row: Decodable { var diffusers: String; var single_file: String; var block: String }

    func rows() throws -> [Row] {
        try JSONDecoder().decode([Row].self, from: Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("blocks/sd1_unet_keys.json"))))
    }

    func testEveryUNetTensorGetsSupermergersBlockInBothNamings() throws {
        let rows = try rows()
        XCTAssertGreaterThan(rows.count, 600)
        for r in rows {
            XCTAssertEqual(SDBlocks.blockName(of: r.single_file), r.block, r.single_file)
            XCTAssertEqual(SDBlocks.blockName(of: r.diffusers), r.block, r.diffusers)
            XCTAssertEqual(SDBlocks.blockName(of: "unet." + r.diffusers), r.block, r.diffusers)
        }
        XCTAssertEqual(Set(rows.map(\.block)).count, 25)
        XCTAssertNoThrow(try SDBlocks.requireSD1UNet(rows.map(\.single_file), path: "sd.safetensors"))
        XCTAssertNoThrow(try SDBlocks.requireSD1UNet(rows.map(\.diffusers), path: "unet.safetensors"))
    }

    func testTextEncoderAndVAEAreBase() {
        for name in ["cond_stage_model.transformer.text_model.encoder.layers.0.mlp.fc1.weight",
                     "first_stage_model.decoder.up.0.block.0.conv1.weight", "text_model.final_layer_norm.bias",
                     "vae.decoder.up_blocks.0.resnets.0.conv1.weight", "encoder.conv_in.weight"] {
            XCTAssertEqual(SDBlocks.blockName(of: name), "BASE", name)
        }
    }

    func testOtherLayoutsAreRefusedWithTheTensorNamed() throws {
        let rows = try rows()
        // SDXL: label_emb, and its UNet stops at input_blocks.8.
        let sdxl = rows.map(\.single_file).filter { !$0.contains("input_blocks.9.") && !$0.contains("input_blocks.1") }
            + ["model.diffusion_model.label_emb.0.0.weight"]
        XCTAssertThrowsError(try SDBlocks.requireSD1UNet(sdxl, path: "xl.safetensors")) {
            XCTAssertTrue("\($0)".contains("xl.safetensors is not an SD 1.x UNet") && "\($0)".contains("label_emb"), "\($0)")
        }
        let shallow = rows.map(\.diffusers).filter { !$0.hasPrefix("down_blocks.3.") }
        XCTAssertThrowsError(try SDBlocks.requireSD1UNet(shallow, path: "u")) { XCTAssertTrue("\($0)".contains("IN11"), "\($0)") }
        XCTAssertThrowsError(try SDBlocks.requireSD1UNet(["down.0.weight", "mid.attn.weight"], path: "tiny")) {
            XCTAssertTrue("\($0)".contains("no tensor named model.diffusion_model"), "\($0)")
        }
        XCTAssertThrowsError(try SDBlocks.requireSD1UNet(rows.map(\.diffusers) + ["down_blocks.4.resnets.0.conv1.weight"], path: "u")) {
            XCTAssertTrue("\($0)".contains("down_blocks.4"), "\($0)")
        }
    }

    func testListsPresetsAndCounts() throws {
        let l25 = try BlockWeightList.parse(Array(repeating: "0.5", count: 25).joined(separator: ","), source: "x")
        XCTAssertNil(l25.base)
        let l26 = try BlockWeightList.parse("0.1," + (0..<25).map { String(Double($0) / 10) }.joined(separator: ","), source: "x")
        XCTAssertEqual(l26.base, 0.1)
        XCTAssertEqual(l26.blocks[12], 1.2)
        // supermerger mbwpresets.txt: GRAD_V = 0 (BASE), then 1 → 0 at M00 → 1.
        let v = try BlockWeightList.parse("grad_v", source: "x")
        XCTAssertEqual(v.base, 0)
        XCTAssertEqual(v.blocks.first, 1)
        XCTAssertEqual(v.blocks[12], 0)
        XCTAssertEqual(v.blocks.last, 1)
        XCTAssertEqual(try BlockWeightList.parse("WRAP08", source: "x").blocks, [1, 1, 1, 1] + Array(repeating: 0, count: 17) + [1, 1, 1, 1])
        XCTAssertThrowsError(try BlockWeightList.parse(Array(repeating: "1", count: 24).joined(separator: ","), source: "--block-weights")) {
            XCTAssertTrue("\($0)".contains("--block-weights: 24 values"), "\($0)")
            XCTAssertTrue(($0 as? EngineError)?.isUsageMistake == true)
        }
        XCTAssertThrowsError(try BlockWeightList.parse("GRAD_Q", source: "x")) { XCTAssertTrue("\($0)".contains("not a preset"), "\($0)") }
        XCTAssertThrowsError(try BlockWeights.rules([l25, l25, l25], parameter: "weight", modelCount: 2))
        XCTAssertThrowsError(try BlockWeights.rules([l25, l26], parameter: "weight", modelCount: 2))
        let rules = try BlockWeights.rules([l26], parameter: "weight", modelCount: 2)
        XCTAssertEqual(rules.count, 26)
        XCTAssertEqual(rules[5].pattern, .block("IN04"))
        XCTAssertEqual(rules[5].values["weight"], .scalar(0.4))
    }

    /// A user rule placed before the block rules wins for its tensors (supermerger's elemental merge).
    func testExplicitRuleOverridesBlock() throws {
        var p = MergeParameters(global: ["weight": .scalar(1)], rules: [TensorRule(pattern: .substring("attn2"), values: ["weight": .scalar(0)])])
        let list = try BlockWeightList.parse("FLAT_25", source: "x")
        p.rules += try BlockWeights.rules([list], parameter: "weight", modelCount: 1)
        XCTAssertEqual(p.value("weight", tensor: "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_q.weight"), .scalar(0))
        XCTAssertEqual(p.value("weight", tensor: "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"), .scalar(0.25))
        XCTAssertEqual(p.value("weight", tensor: "text_model.final_layer_norm.weight"), .scalar(0))
    }
}

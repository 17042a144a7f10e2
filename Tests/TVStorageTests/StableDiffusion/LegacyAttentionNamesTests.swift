import Foundation
import XCTest
@testable import TVStorage

/// Pre-0.14 diffusers attention names in UNet2DModel folders are read under today's names.
final class LegacyAttentionNamesTests: XCTestCase {
    func testOnlyAttentionBlockProjectionsAreRenamed() {
        XCTAssertEqual(LegacyAttentionNames.modernName("mid_block.attentions.0.query.weight"), "mid_block.attentions.0.to_q.weight")
        XCTAssertEqual(LegacyAttentionNames.modernName("down_blocks.1.attentions.1.key.bias"), "down_blocks.1.attentions.1.to_k.bias")
        XCTAssertEqual(LegacyAttentionNames.modernName("up_blocks.2.attentions.0.value.weight"), "up_blocks.2.attentions.0.to_v.weight")
        XCTAssertEqual(LegacyAttentionNames.modernName("up_blocks.2.attentions.2.proj_attn.bias"), "up_blocks.2.attentions.2.to_out.0.bias")
        for kept in ["mid_block.attentions.0.group_norm.weight", "mid_block.attentions.0.to_q.weight", "query.weight",
                     "mid_block.resnets.0.query.weight", "mid_block.attentions.x.query.weight", "mid_block.attentions.0.query.scale"] {
            XCTAssertNil(LegacyAttentionNames.modernName(kept), kept)
        }
    }

    private func folder(_ names: [String], config: [String: Any]) throws -> URL {
        let dir = TestPaths.scratchDirectory("legacy-attn")
        let tensors = try names.enumerated().map { i, n in (n, try Tensor.fromFloats([Float(i), -1], shape: [2])) }
        try Checkpoints.save(tensors, to: dir.appendingPathComponent("diffusion_pytorch_model.safetensors").path, metadata: [:])
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        return dir
    }

    func testUNet2DModelFoldersOpenRenamedOthersUnchangedAndClashesAreNamed() throws {
        let old = ["conv_in.weight", "mid_block.attentions.0.query.weight", "mid_block.attentions.0.proj_attn.bias"]
        let unet = try folder(old, config: ["_class_name": "UNet2DModel", "down_block_types": ["DownBlock2D"]])
        defer { try? FileManager.default.removeItem(at: unet) }
        let r = try Checkpoints.open(unet.path)
        XCTAssertEqual(Set(r.tensors.map(\.name)), ["conv_in.weight", "mid_block.attentions.0.to_q.weight", "mid_block.attentions.0.to_out.0.bias"])
        XCTAssertEqual(try r.tensor(named: "mid_block.attentions.0.to_out.0.bias").floats(), [2, -1])
        XCTAssertEqual(r.path, unet.appendingPathComponent("diffusion_pytorch_model.safetensors").path)

        // Another model class keeps its names (diffusers renames only deprecated attention blocks).
        let other = try folder(old, config: ["_class_name": "UNet2DConditionModel", "cross_attention_dim": 768])
        defer { try? FileManager.default.removeItem(at: other) }
        XCTAssertEqual(Set(try Checkpoints.open(other.path).tensors.map(\.name)), Set(old))

        // A pipeline's unet/ is renamed too.
        let pipe = TestPaths.scratchDirectory("legacy-attn-pipe")
        defer { try? FileManager.default.removeItem(at: pipe) }
        try FileManager.default.copyItem(at: unet, to: pipe.appendingPathComponent("unet"))
        try Data(#"{"_class_name": "DDPMPipeline", "unet": ["diffusers", "UNet2DModel"]}"#.utf8).write(to: pipe.appendingPathComponent("model_index.json"))
        XCTAssertTrue(try PipelineReader(path: pipe.path).tensors.map(\.name).contains("unet.mid_block.attentions.0.to_q.weight"))

        let clash = try folder(["mid_block.attentions.0.query.weight", "mid_block.attentions.0.to_q.weight"],
                               config: ["_class_name": "UNet2DModel"])
        defer { try? FileManager.default.removeItem(at: clash) }
        XCTAssertThrowsError(try Checkpoints.open(clash.path)) { XCTAssertTrue("\($0)".contains("mid_block.attentions.0.to_q.weight"), "\($0)") }
    }
}

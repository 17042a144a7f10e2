import Foundation
import XCTest
@testable import TVStorage

/// Pre-0.14 diffusers attention names in UNet2DModel and AutoencoderKL folders are read under today's names.
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

    /// fixtures/stable_diffusion/make_legacy_vae.py: a pipeline whose vae/ (AutoencoderKL) keeps
    /// pre-0.14 names. tvtool's read must equal what diffusers' from_pretrained loaded (names,
    /// shapes, CRC-32 of the bytes), alone or in the pipeline, and its SD single-file view must
    /// have the LDM names and 1×1-conv shapes (`mid.attn_1.q.weight`), as diffusers' conversion
    /// script gives them.
    func testOldVAENamesOpenAsDiffusersLoadsThem() throws {
        struct Entry: Decodable { let dtype: String; let shape: [Int]; let crc32: UInt32 }
        struct Expected: Decodable { let diffusers: [String: Entry]; let single_file: [String: [Int]]; let old_names: [String] }
        let want = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("stable_diffusion/legacy_vae_expected.json"))))
        let folder = TestPaths.fixture("stable_diffusion/legacy_vae_pipeline")
        // The file on disk does hold the old names (the fixture is what it says).
        let raw = try Checkpoints.open(folder + "/vae/diffusion_pytorch_model.safetensors")
        XCTAssertTrue(Set(want.old_names).isSubset(of: raw.tensors.map(\.name)))

        let pipeline = try PipelineReader(path: folder)
        XCTAssertEqual(Set(pipeline.tensors.map(\.name)), Set(want.diffusers.keys))
        for (name, e) in want.diffusers {
            let t = try pipeline.tensor(named: name)
            XCTAssertEqual(t.shape, e.shape, name)
            XCTAssertEqual(t.withUnsafeBytes { CRC32.checksum($0) }, e.crc32, name)
        }
        let alone = try Checkpoints.open(folder + "/vae")
        XCTAssertEqual(Set(alone.tensors.map { "vae." + $0.name }), Set(want.diffusers.keys))

        let single = try RemappedReader.singleFileView(of: pipeline)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: single.tensors.map { ($0.name, $0.shape) }), want.single_file)
        XCTAssertEqual(try single.tensor(named: "first_stage_model.decoder.mid.attn_1.proj_out.bias").floats(),
                       try raw.tensor(named: "decoder.mid_block.attentions.0.proj_attn.bias").floats())
    }
}

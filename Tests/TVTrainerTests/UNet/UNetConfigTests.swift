import XCTest
import TVStorage
@testable import TVTrainer

/// config.json parsing (defaults, refusals naming the key) and diffusers folders (round trip,
/// legacy attention names, missing and unexpected tensors).
final class UNetConfigTests: XCTestCase {
    /// google/ddpm-cifar10-32's config.json as published.
    static let cifarJSON = """
    {"_class_name": "UNet2DModel", "_diffusers_version": "0.0.4", "act_fn": "silu", "attention_head_dim": null,
     "block_out_channels": [128, 256, 256, 256], "center_input_sample": false,
     "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"],
     "downsample_padding": 0, "flip_sin_to_cos": false, "freq_shift": 1, "in_channels": 3, "layers_per_block": 2,
     "mid_block_scale_factor": 1, "norm_eps": 1e-06, "norm_num_groups": 32, "out_channels": 3, "sample_size": 32,
     "time_embedding_type": "positional", "up_block_types": ["UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"]}
    """

    func parse(_ json: String) throws -> UNetConfig { try UNetConfig.fromJSON(Data(json.utf8), source: "config.json") }

    func testDDPMCIFAR10ConfigParsesAndHas35_7MParameters() throws {
        let c = try parse(Self.cifarJSON)
        XCTAssertEqual(c, UNetConfig.ddpmCIFAR10)
        XCTAssertEqual(UNet2DModel.layout(for: c).count, 35_746_307)
        XCTAssertEqual(try UNetConfig.fromJSON(c.jsonData(), source: "x"), c, "written config reads back the same")
    }

    func testUnsupportedValuesNameTheKey() {
        let cases: [(String, String, String)] = [
            ("\"act_fn\": \"silu\"", "\"act_fn\": \"silu\", \"resnet_time_scale_shift\": \"scale_shift\"", "resnet_time_scale_shift"),
            ("\"act_fn\": \"silu\"", "\"act_fn\": \"silu\", \"mid_block_type\": null", "mid_block_type"),
            ("\"time_embedding_type\": \"positional\"", "\"time_embedding_type\": \"fourier\"", "time_embedding_type"),
            ("\"DownBlock2D\", \"AttnDownBlock2D\"", "\"DownBlock2D\", \"CrossAttnDownBlock2D\"", "down_block_types"),
            ("\"act_fn\": \"silu\"", "\"act_fn\": \"gelu\"", "act_fn"),
            ("\"norm_num_groups\": 32", "\"norm_num_groups\": 48", "norm_num_groups"),
            ("\"layers_per_block\": 2", "\"layers_per_block\": \"two\"", "layers_per_block"),
            ("\"sample_size\": 32", "\"sample_size\": 30", "sample_size"),
            ("\"attention_head_dim\": null", "\"attention_head_dim\": 100", "attention_head_dim"),
            ("\"flip_sin_to_cos\": false", "\"flip_sin_to_cos\": 0", "flip_sin_to_cos"),
            ("\"in_channels\": 3", "\"in_channels\": 3, \"num_class_embeds\": 10", "num_class_embeds"),
        ]
        for (from, to, key) in cases {
            let json = Self.cifarJSON.replacingOccurrences(of: from, with: to)
            XCTAssertNotEqual(json, Self.cifarJSON, "test case \(key) did not apply")
            XCTAssertThrowsError(try parse(json), key) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(key), text)
                XCTAssertFalse(text.contains("\n"), text)
            }
        }
        XCTAssertThrowsError(try parse("[1, 2]"))
        XCTAssertThrowsError(try parse("{"))
    }

    func testMissingKeysTakeDiffusersDefaults() throws {
        let c = try parse("{\"sample_size\": 64, \"block_out_channels\": [32, 64, 64, 64]}")
        XCTAssertEqual(c.attentionHeadDim, 8); XCTAssertTrue(c.flipSinToCos); XCTAssertEqual(c.freqShift, 0)
        XCTAssertEqual(c.downsamplePadding, 1); XCTAssertEqual(c.normEps, 1e-5); XCTAssertEqual(c.layersPerBlock, 2)
        XCTAssertEqual(c.downBlockTypes, [.down, .attnDown, .attnDown, .attnDown])
    }

    func smallModel() throws -> UNet2DModel {
        UNet2DModel(config: UNetGradientCheckTests.tinyConfig(), seed: 9)
    }

    func testFolderRoundTrip() throws {
        let model = try smallModel()
        let dir = TestPaths.scratchDirectory("unet-folder")
        defer { try? FileManager.default.removeItem(at: dir) }
        try UNetFolder.save(model, to: dir.path)
        let back = try UNetFolder.load(dir.path)
        XCTAssertEqual(back.config, model.config)
        XCTAssertEqual(back.parameters.array, model.parameters.array)
    }

    /// Pre-0.14 diffusers checkpoints name the attention projections query/key/value/proj_attn.
    func testLegacyAttentionNamesLoad() throws {
        var c = UNetGradientCheckTests.tinyConfig()
        c.channelProjections = false
        let model = UNet2DModel(config: c, seed: 4)
        let dir = TestPaths.scratchDirectory("unet-legacy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let named = try model.layout.entries.map { e -> (String, Tensor) in
            let name = UNetFolder.legacyName(e.name) ?? e.name
            let values = Array(UnsafeBufferPointer(start: model.parameters.pointer + e.offset, count: e.count))
            return (name, try Tensor.fromFloats(values, shape: e.shape))
        }
        XCTAssertTrue(named.contains { $0.0.hasSuffix("proj_attn.weight") })
        try Checkpoints.save(named, to: dir.appendingPathComponent("diffusion_pytorch_model.safetensors").path, metadata: ["format": "pt"])
        try c.jsonData().write(to: dir.appendingPathComponent("config.json"))
        XCTAssertEqual(try UNetFolder.load(dir.path).parameters.array, model.parameters.array)
    }

    func testMissingAndUnexpectedTensorsAreNamed() throws {
        let model = try smallModel()
        let dir = TestPaths.scratchDirectory("unet-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        try UNetFolder.save(model, to: dir.path)
        var plain = model.unetConfig
        plain.channelProjections = false
        try plain.jsonData().write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try UNetFolder.load(dir.path)) { XCTAssertTrue("\($0)".contains("down_blocks.0.channel_projection.weight"), "\($0)") }
        var other = model.unetConfig
        other.blockOutChannels = [8, 24]
        try other.jsonData().write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try UNetFolder.load(dir.path)) { XCTAssertTrue("\($0)".contains("shape"), "\($0)") }
        XCTAssertThrowsError(try UNetFolder.load(dir.appendingPathComponent("nothing").path))
    }
}

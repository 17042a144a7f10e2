import Foundation
import TVStorage
@testable import TVTrainer
import XCTest

/// Which config a merge output carries from diffusers folders' config.json: a missing one or
/// one of another model class is "no config"; an unreadable or malformed one is an error naming it.
final class CarriedModelConfigTests: XCTestCase {
    /// A folder holding diffusers-named weights and, when given, `config` as config.json
    /// (a `nil` config: none; `.folder`: a folder named config.json, which cannot be read).
    private enum ConfigFile { case none, text(String), folder }

    private func weights(in dir: URL, _ name: String, config: ConfigFile) throws -> any CheckpointReader {
        let folder = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let json = folder.appendingPathComponent("config.json")
        switch config {
        case .none: break
        case .text(let s): try Data(s.utf8).write(to: json)
        case .folder: try FileManager.default.createDirectory(at: json, withIntermediateDirectories: true)
        }
        let path = folder.appendingPathComponent(UNetFolder.weightsName).path
        try Checkpoints.save([("w", try Tensor.fromFloats([1, 2], shape: [2]))], to: path, metadata: [:])
        return try Checkpoints.open(path)
    }

    func testAbsentOrForeignConfigIsNoneAndAValidOneIsCarried() throws {
        let dir = TestPaths.scratchDirectory("carried-config")
        let plain = try weights(in: dir, "plain", config: .none)
        let bert = try weights(in: dir, "bert", config: .text(#"{"_class_name": "BertModel", "hidden_size": 8}"#))
        let transformers = try weights(in: dir, "tf", config: .text(#"{"architectures": ["BertModel"], "model_type": "bert"}"#))
        let vae = try weights(in: dir, "vae", config: .text(#"{"_class_name": "AutoencoderKL", "down_block_types": ["DownEncoderBlock2D"]}"#))
        XCTAssertEqual(try CarriedModelConfig.outcome([plain, bert, transformers, vae]), CarriedModelConfig.Outcome.none)
        // Well-formed UNet2DModel configs the trainer does not build (ncsnpp's skip blocks, Fourier
        // time embeddings, class conditioning): no carried config, and the merge goes on.
        let skip = try weights(in: dir, "skip", config: .text(UNetConfigTests.cifarJSON.replacingOccurrences(of: "\"DownBlock2D\"", with: "\"SkipDownBlock2D\"")))
        let fourier = try weights(in: dir, "fourier", config: .text(#"{"_class_name": "UNet2DModel", "sample_size": 32, "time_embedding_type": "fourier"}"#))
        let classes = try weights(in: dir, "classes", config: .text(#"{"_class_name": "UNet2DModel", "sample_size": 32, "num_class_embeds": 10}"#))
        XCTAssertEqual(try CarriedModelConfig.outcome([plain, skip, fourier, classes]), CarriedModelConfig.Outcome.none)
        let unet = try weights(in: dir, "unet", config: .text(UNetConfigTests.cifarJSON))
        XCTAssertEqual(try CarriedModelConfig.outcome([plain, unet]), .agreed(UNet2DModel.modelConfig(.ddpmCIFAR10)))
    }

    func testUnreadableOrMalformedConfigIsAnErrorNamingIt() throws {
        let dir = TestPaths.scratchDirectory("carried-config-bad")
        let plain = try weights(in: dir, "plain", config: .none)
        let cases: [(String, ConfigFile, String)] = [
            ("unreadable", .folder, "cannot read the file"),
            ("truncated", .text(#"{"_class_name": "UNet2DModel", "in_chan"#), "not a JSON object"),
            ("array", .text("[1, 2]"), "not a JSON object"),
            ("badkey", .text(UNetConfigTests.cifarJSON.replacingOccurrences(of: "\"layers_per_block\": 2", with: "\"layers_per_block\": \"two\"")),
             "layers_per_block"),
        ]
        for (name, config, reason) in cases {
            let reader = try weights(in: dir, name, config: config)
            XCTAssertThrowsError(try CarriedModelConfig.outcome([plain, reader]), name) { error in
                let json = dir.appendingPathComponent("\(name)/config.json").path
                XCTAssertTrue("\(error)".hasPrefix(json + ": bad model config: ") && "\(error)".contains(reason), "\(error)")
            }
        }
    }
}

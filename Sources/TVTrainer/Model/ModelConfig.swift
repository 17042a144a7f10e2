import Foundation

/// Everything needed to rebuild a denoiser from a checkpoint alone. Stored as JSON in the
/// safetensors metadata under `ModelConfig.metadataKey`.
public struct ModelConfig: Codable, Sendable, Equatable {
    /// Architecture name; "mlp" is the only one so far. A conv UNet would add its own case and
    /// build a different `Denoiser` behind the same checkpoint/config plumbing.
    public var architecture: String
    /// Data layout of one sample: channels × height × width (flattened row-major for the MLP).
    public var channels: Int
    public var height: Int
    public var width: Int
    /// Hidden width d of the MLP.
    public var hiddenWidth: Int
    /// Number of residual blocks.
    public var blocks: Int
    /// Size of the sinusoidal timestep embedding (even).
    public var timeEmbedding: Int
    /// DeMe's channel-wise projection: a learnable d×d matrix (no bias) after each block.
    public var projections: Bool
    /// The diffusion process the model was trained for.
    public var schedule: BetaSchedule
    public var timesteps: Int

    public static let metadataKey = "tvtool.model_config"

    public init(channels: Int = 1, height: Int = 8, width: Int = 8, hiddenWidth: Int = 256, blocks: Int = 4,
                timeEmbedding: Int = 128, projections: Bool = false, schedule: BetaSchedule = .linear,
                timesteps: Int = 1000, architecture: String = "mlp") {
        self.architecture = architecture
        self.channels = channels
        self.height = height
        self.width = width
        self.hiddenWidth = hiddenWidth
        self.blocks = blocks
        self.timeEmbedding = timeEmbedding
        self.projections = projections
        self.schedule = schedule
        self.timesteps = timesteps
    }

    public var dataDimension: Int { channels * height * width }

    public func makeSchedule() -> NoiseSchedule { NoiseSchedule(kind: schedule, timesteps: timesteps) }

    /// Checks the values a file could get wrong.
    public func validate(source: String) throws(TrainerError) {
        guard architecture == "mlp" else { throw .badConfig(source: source, reason: "unknown architecture '\(architecture)'") }
        guard channels > 0, height > 0, width > 0, hiddenWidth > 0, blocks >= 0, timesteps >= 2 else {
            throw .badConfig(source: source, reason: "sizes must be positive")
        }
        guard timeEmbedding >= 2, timeEmbedding % 2 == 0 else {
            throw .badConfig(source: source, reason: "time embedding size must be even and at least 2")
        }
    }

    public func metadataJSON() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try! enc.encode(self), as: UTF8.self)
    }

    public static func fromMetadata(_ metadata: [String: String], source: String) throws(TrainerError) -> ModelConfig {
        guard let json = metadata[metadataKey] else {
            throw .badConfig(source: source, reason: "no '\(metadataKey)' in the metadata (not a tvtool trainer checkpoint)")
        }
        let config: ModelConfig
        do { config = try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)) } catch {
            throw .badConfig(source: source, reason: "unreadable '\(metadataKey)': \(error)")
        }
        try config.validate(source: source)
        return config
    }
}

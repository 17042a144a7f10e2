import Foundation

/// Everything needed to rebuild a denoiser from a checkpoint alone. Stored as JSON in the
/// safetensors metadata under `ModelConfig.metadataKey`.
public struct ModelConfig: Codable, Sendable, Equatable {
    /// Architecture name (`DenoiserArchitectures`): picks the `TrainableDenoiser` type a
    /// checkpoint loads as. The MLP's fields (hiddenWidth, blocks, timeEmbedding) stay top-level
    /// for old files; another architecture's settings go in an optional field of their own
    /// (absent fields are not encoded, so existing metadata stays byte-identical).
    public var architecture: String
    /// Data layout of one sample: channels × height × width (flattened row-major for the MLP).
    public var channels: Int
    public var height: Int
    public var width: Int
    /// MLP: hidden width d.
    public var hiddenWidth: Int
    /// MLP: number of residual blocks.
    public var blocks: Int
    /// MLP: size of the sinusoidal timestep embedding (even).
    public var timeEmbedding: Int
    /// DeMe's channel-wise projections (for the MLP a learnable d×d matrix, no bias, after each block).
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

    /// Checks the values a file could get wrong: the common fields here, the architecture's own
    /// through its type.
    public func validate(source: String) throws(TrainerError) {
        let type = try DenoiserArchitectures.type(for: self, source: source)
        guard channels > 0, height > 0, width > 0, timesteps >= 2 else {
            throw .badConfig(source: source, reason: "sizes must be positive")
        }
        try type.validate(self, source: source)
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

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
    /// MLP: where the timestep enters (nil = `.input`, as in files made before the option).
    public var timeConditioning: TimeConditioning?
    /// MLP: normalisation before each block (nil = `.none`, as in files made before the option).
    public var blockNorm: BlockNorm?
    /// The diffusion process the model was trained for.
    public var schedule: BetaSchedule
    public var timesteps: Int
    /// The UNet's settings (architecture "unet"): diffusers' UNet2DModel config. Absent for the MLP.
    public var unet: UNetConfig? = nil

    public static let metadataKey = "tvtool.model_config"

    public init(channels: Int = 1, height: Int = 8, width: Int = 8, hiddenWidth: Int = 256, blocks: Int = 4,
                timeEmbedding: Int = 128, projections: Bool = false, schedule: BetaSchedule = .linear,
                timesteps: Int = 1000, architecture: String = "mlp",
                timeConditioning: TimeConditioning = .input, blockNorm: BlockNorm = .none) {
        self.architecture = architecture
        // Defaults are stored as nil so they are not encoded: such configs write the same bytes
        // (and compare equal) as configs read from files made before these options existed.
        self.timeConditioning = timeConditioning == .input ? nil : timeConditioning
        self.blockNorm = blockNorm == BlockNorm.none ? nil : blockNorm
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

    /// Every block adds its own projection of silu(temb) (like ResnetBlock2D's time_emb_proj).
    public var perBlockTime: Bool { (timeConditioning ?? .input) == .perBlock }
    /// Every block starts with a LayerNorm of its input.
    public var layerNormBlocks: Bool { (blockNorm ?? BlockNorm.none) == .layer }

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

/// Where the MLP's time embedding temb enters.
public enum TimeConditioning: String, Codable, Sendable, CaseIterable {
    /// Added to the input projection only: h0 = input(x) + temb.
    case input
    /// Also inside every block: v_i = fc1_i(...) + time_emb_proj_i(silu(temb)).
    case perBlock = "per_block"
}

/// The normalisation at the start of every MLP block.
public enum BlockNorm: String, Codable, Sendable, CaseIterable {
    case none
    /// nn.LayerNorm(d) (eps 1e-5, learnable weight and bias) on the block's input.
    case layer
}

import Foundation

/// The configuration of a diffusers `UNet2DModel`, as its `config.json` spells it, for the
/// configurations DDPM uses (positional time embedding, DownBlock2D / AttnDownBlock2D,
/// UNetMidBlock2D, UpBlock2D / AttnUpBlock2D, conv down/upsampling, SiLU). Anything else is refused
/// with the key named. `channelProjections` is tvtool's own key (DeMe's projections).
public struct UNetConfig: Codable, Sendable, Equatable {
    public enum DownBlockType: String, Codable, Sendable { case down = "DownBlock2D", attnDown = "AttnDownBlock2D" }
    public enum UpBlockType: String, Codable, Sendable { case up = "UpBlock2D", attnUp = "AttnUpBlock2D" }

    public var sampleSize: Int
    public var inChannels: Int
    public var outChannels: Int
    public var centerInputSample = false
    /// nil: 4 × block_out_channels[0], as diffusers.
    public var timeEmbeddingDim: Int?
    public var freqShift = 0
    public var flipSinToCos = true
    public var downBlockTypes: [DownBlockType]
    public var upBlockTypes: [UpBlockType]
    public var blockOutChannels: [Int]
    public var layersPerBlock = 2
    public var midBlockScaleFactor = 1.0
    public var downsamplePadding = 1
    public var dropout = 0.0
    /// Channels per attention head; nil: one head over all channels.
    public var attentionHeadDim: Int? = 8
    public var normNumGroups = 32
    public var normEps = 1e-5
    public var addAttention = true
    public var numTrainTimesteps: Int?
    /// DeMe's channel-wise projections after every down block, the mid block and every up block.
    public var channelProjections = false

    public init(sampleSize: Int, inChannels: Int = 3, outChannels: Int = 3, blockOutChannels: [Int],
                downBlockTypes: [DownBlockType], upBlockTypes: [UpBlockType], layersPerBlock: Int = 2,
                attentionHeadDim: Int? = 8, normNumGroups: Int = 32, normEps: Double = 1e-5) {
        self.sampleSize = sampleSize; self.inChannels = inChannels; self.outChannels = outChannels
        self.blockOutChannels = blockOutChannels; self.downBlockTypes = downBlockTypes; self.upBlockTypes = upBlockTypes
        self.layersPerBlock = layersPerBlock; self.attentionHeadDim = attentionHeadDim
        self.normNumGroups = normNumGroups; self.normEps = normEps
    }

    /// google/ddpm-cifar10-32's config (35.7M parameters).
    public static var ddpmCIFAR10: UNetConfig {
        var c = UNetConfig(sampleSize: 32, blockOutChannels: [128, 256, 256, 256],
                           downBlockTypes: [.down, .attnDown, .down, .down], upBlockTypes: [.up, .up, .attnUp, .up],
                           layersPerBlock: 2, attentionHeadDim: nil, normNumGroups: 32, normEps: 1e-6)
        c.flipSinToCos = false; c.freqShift = 1; c.downsamplePadding = 0
        return c
    }

    public var timeEmbedDim: Int { timeEmbeddingDim ?? 4 * blockOutChannels[0] }
    public var reversedChannels: [Int] { blockOutChannels.reversed() }
    func headDim(_ channels: Int) -> Int { attentionHeadDim ?? channels }
    /// Values per sample (channels × height × width) of the model's input.
    public var dataDimension: Int { inChannels * sampleSize * sampleSize }

    /// Checks what the model needs; the error names the config key.
    public func validate(source: String) throws(TrainerError) {
        func bad(_ key: String, _ why: String) -> TrainerError { .badConfig(source: source, reason: "\(key): \(why)") }
        let levels = blockOutChannels.count
        guard levels >= 1, blockOutChannels.allSatisfy({ $0 > 0 }) else { throw bad("block_out_channels", "must be positive, at least one") }
        guard downBlockTypes.count == levels else { throw bad("down_block_types", "needs one entry per block_out_channels entry") }
        guard upBlockTypes.count == levels else { throw bad("up_block_types", "needs one entry per block_out_channels entry") }
        guard inChannels > 0 else { throw bad("in_channels", "must be positive") }
        guard outChannels > 0 else { throw bad("out_channels", "must be positive") }
        guard layersPerBlock >= 1 else { throw bad("layers_per_block", "must be at least 1") }
        guard sampleSize > 0, sampleSize % (1 << (levels - 1)) == 0 else {
            throw bad("sample_size", "must be a positive multiple of \(1 << (levels - 1)) (halved \(levels - 1) times)")
        }
        guard normNumGroups > 0 else { throw bad("norm_num_groups", "must be positive") }
        guard normEps > 0 else { throw bad("norm_eps", "must be positive") }
        guard downsamplePadding == 0 || downsamplePadding == 1 else { throw bad("downsample_padding", "only 0 and 1 are supported") }
        guard dropout >= 0, dropout < 1 else { throw bad("dropout", "must be in [0, 1)") }
        guard midBlockScaleFactor > 0 else { throw bad("mid_block_scale_factor", "must be positive") }
        let T = timeEmbedDim
        guard T > 0 else { throw bad("time_embedding_dim", "must be positive") }
        guard blockOutChannels[0] >= 2 else { throw bad("block_out_channels", "the first entry is the timestep embedding size, at least 2") }
        // Every GroupNorm's channel count, including the up resnets' concatenated inputs.
        for (i, C) in blockOutChannels.enumerated() {
            guard C % normNumGroups == 0 else { throw bad("norm_num_groups", "\(normNumGroups) does not divide block_out_channels[\(i)] = \(C)") }
        }
        for (i, skips) in upSkipChannels.enumerated() {
            let C = reversedChannels[i], prev = i == 0 ? C : reversedChannels[i - 1]
            for (j, s) in skips.enumerated() where ((j == 0 ? prev : C) + s) % normNumGroups != 0 {
                throw bad("norm_num_groups", "\(normNumGroups) does not divide up_blocks.\(i).resnets.\(j)'s \((j == 0 ? prev : C) + s) input channels")
            }
        }
        var attentionChannels = downBlockTypes.enumerated().filter { $0.element == .attnDown }.map { blockOutChannels[$0.offset] }
        attentionChannels += upBlockTypes.enumerated().filter { $0.element == .attnUp }.map { reversedChannels[$0.offset] }
        if addAttention { attentionChannels.append(blockOutChannels.last!) }
        if let d = attentionHeadDim {
            guard d > 0 else { throw bad("attention_head_dim", "must be positive") }
            for C in attentionChannels where C % d != 0 {
                throw bad("attention_head_dim", "\(d) does not divide the \(C) channels of an attention block")
            }
        }
    }

    /// Channels of the skip tensor each up resnet reads, per up block (diffusers pops them last-first).
    var upSkipChannels: [[Int]] {
        var stack = [blockOutChannels[0]]
        for (i, C) in blockOutChannels.enumerated() {
            stack += Array(repeating: C, count: layersPerBlock)
            if i < blockOutChannels.count - 1 { stack.append(C) }
        }
        return (0..<blockOutChannels.count).map { _ in (0...layersPerBlock).map { _ in stack.removeLast() } }
    }
}

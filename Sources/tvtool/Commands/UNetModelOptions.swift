import ArgumentParser
import Foundation
import TVTrainer

/// The UNet's settings for `train --model unet` (and `deme --model unet`): a diffusers
/// UNet2DModel config.json, or a few options for the common DDPM shapes. Sample size and
/// channels always come from the data (a config.json's must match it).
struct UNetModelOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp("UNet: a diffusers UNet2DModel config.json (sample_size/in_channels must match the data).", valueName: "file"))
    var configFile: String?
    @Option(help: ArgumentHelp("UNet: channels per resolution level, e.g. 32,64 (diffusers' block_out_channels; default 32,64).", valueName: "list"))
    var blockOutChannels: String?
    @Option(help: "UNet: resnet blocks per level (default 2).") var layersPerBlock: Int?
    @Option(help: ArgumentHelp("UNet: 0-based levels with self-attention (AttnDownBlock2D and its mirrored AttnUpBlock2D), e.g. 1, or none (default 1, DDPM's 16×16 level; none for one level).", valueName: "list"))
    var attentionLevels: String?
    @Option(help: "UNet: GroupNorm groups (must divide every block's channels; default 32, or the largest power of two up to 32 that fits).") var normGroups: Int?
    @Option(help: ArgumentHelp("UNet: channels per attention head, or none for one head (default 8, as diffusers).", valueName: "n|none"))
    var attentionHeadDim: String?

    /// Whether any UNet option was given (they are refused with --model mlp).
    var anyGiven: Bool {
        configFile != nil || blockOutChannels != nil || layersPerBlock != nil || attentionLevels != nil || normGroups != nil
            || attentionHeadDim != nil
    }

    /// The UNet settings, with sample size and channels 0 (= from the data) unless a config.json sets them.
    func settings() throws -> UNetConfig {
        if let configFile {
            guard blockOutChannels == nil, layersPerBlock == nil, attentionLevels == nil, normGroups == nil, attentionHeadDim == nil else {
                throw ValidationError("--config gives the whole UNet; drop --block-out-channels/--layers-per-block/--attention-levels/--norm-groups/--attention-head-dim")
            }
            return try UNetConfig.load(configFile)
        }
        let channels = try Self.ints(blockOutChannels ?? "32,64", option: "--block-out-channels")
        guard !channels.isEmpty, channels.allSatisfy({ $0 > 0 }) else { throw ValidationError("--block-out-channels needs positive channel counts, e.g. 32,64") }
        let levels: [Int]
        switch attentionLevels {
        case nil: levels = channels.count > 1 ? [1] : []
        case "none"?, ""?: levels = []
        case let text?: levels = try Self.ints(text, option: "--attention-levels")
        }
        guard levels.allSatisfy({ (0..<channels.count).contains($0) }) else {
            throw ValidationError("--attention-levels: levels are 0…\(channels.count - 1) for \(channels.count) entries of --block-out-channels")
        }
        let n = channels.count
        let downs = (0..<n).map { levels.contains($0) ? UNetConfig.DownBlockType.attnDown : .down }
        let ups = (0..<n).map { levels.contains(n - 1 - $0) ? UNetConfig.UpBlockType.attnUp : .up }
        var head: Int? = 8
        if let attentionHeadDim {
            if attentionHeadDim == "none" { head = nil } else {
                guard let d = Int(attentionHeadDim), d > 0 else { throw ValidationError("--attention-head-dim must be a positive integer or none") }
                head = d
            }
        }
        let layers = layersPerBlock ?? 2
        guard layers >= 1 else { throw ValidationError("--layers-per-block must be at least 1") }
        var c = UNetConfig(sampleSize: 0, inChannels: 0, outChannels: 0, blockOutChannels: channels, downBlockTypes: downs,
                           upBlockTypes: ups, layersPerBlock: layers, attentionHeadDim: head, normNumGroups: 32)
        if let normGroups {
            guard normGroups > 0 else { throw ValidationError("--norm-groups must be positive") }
            c.normNumGroups = normGroups
        } else {
            // Every GroupNorm sees a sum of block channel counts: a divisor of all of them fits.
            c.normNumGroups = [32, 16, 8, 4, 2, 1].first { g in channels.allSatisfy { $0 % g == 0 } }!
        }
        return c
    }

    static func ints(_ text: String, option: String) throws -> [Int] {
        try text.split(separator: ",").map {
            guard let v = Int($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("\(option): '\($0)' is not an integer") }
            return v
        }
    }
}

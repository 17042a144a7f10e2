import Foundation

/// diffusers' UNet2DModel (DDPM's configurations) as a trainable denoiser: all parameters in one
/// flat buffer under diffusers' names and PyTorch layouts (`layout`), forward keeping the
/// activations backward needs, backward overwriting `gradients`. Same surface as MLPDenoiser.
///
///     emb = linear_2(silu(linear_1(sinusoidal(t))))
///     h = conv_in(x) → down blocks (skip tensors kept) → mid block → up blocks (skips concatenated)
///     out = conv_out(silu(conv_norm_out(h)))
///
/// Not thread-safe (activations and scratch): use one instance per thread (`init(sharingParametersOf:)`).
public final class UNet2DModel: TrainableDenoiser {
    public static let architecture = "unet"
    /// The trainer's config (architecture "unet"; `config.unet` holds the UNet's own settings).
    public let config: ModelConfig
    /// diffusers' UNet2DModel settings (`config.unet`, with `channelProjections` = `config.projections`).
    public let unetConfig: UNetConfig
    public let layout: ParameterLayout
    public let parameters: FloatBuffer
    public let gradients: FloatBuffer
    /// Set while training with config.dropout > 0; nil evaluates without dropout (module.eval()).
    public var dropout: DropoutSource?
    private let graph: UNetGraph

    /// The parameter layout of a config (names and shapes as diffusers' state dict).
    public static func layout(for c: UNetConfig) -> ParameterLayout { UNetGraph(config: c).layout }
    public static func layout(for c: ModelConfig) -> ParameterLayout { layout(for: unetSettings(c)) }

    /// The UNet settings of a trainer config (its projections flag is the trainer's).
    static func unetSettings(_ c: ModelConfig) -> UNetConfig {
        guard var u = c.unet else { preconditionFailure("architecture 'unet' without unet settings") }
        u.channelProjections = c.projections
        return u
    }

    /// The trainer config of a UNet config: data shape, projections and timesteps taken from it.
    public static func modelConfig(_ u: UNetConfig, schedule: BetaSchedule = .linear) -> ModelConfig {
        var c = ModelConfig(channels: u.inChannels, height: u.sampleSize, width: u.sampleSize, projections: u.channelProjections,
                            schedule: schedule, timesteps: u.numTrainTimesteps ?? 1000, architecture: architecture)
        c.unet = u
        return c
    }

    public static func validate(_ c: ModelConfig, source: String) throws(TrainerError) {
        guard let u = c.unet else { throw .badConfig(source: source, reason: "architecture 'unet' needs its 'unet' settings") }
        try u.validate(source: source)
        guard u.inChannels == c.channels, u.outChannels == c.channels, u.sampleSize == c.height, u.sampleSize == c.width else {
            throw .badConfig(source: source, reason: "unet: in_channels/out_channels/sample_size must match the data shape \(c.channels)×\(c.height)×\(c.width)")
        }
    }

    public convenience init(config: UNetConfig, parameters values: [Float]) {
        self.init(config: UNet2DModel.modelConfig(config), parameters: values)
    }

    public convenience init(config: UNetConfig, seed: UInt64) {
        self.init(config: UNet2DModel.modelConfig(config), seed: seed)
    }

    /// A model with the given flat parameters (layout order). The config must be valid.
    public init(config: ModelConfig, parameters values: [Float]) {
        self.config = config
        unetConfig = UNet2DModel.unetSettings(config)
        graph = UNetGraph(config: unetConfig)
        layout = graph.layout
        precondition(values.count == layout.count, "parameter count \(values.count) != \(layout.count)")
        parameters = FloatBuffer(values)
        gradients = FloatBuffer(count: layout.count)
    }

    /// A second instance over the same parameter buffer (not a copy) with its own gradients,
    /// activations and scratch, e.g. for the other half of a batch on another thread.
    public init(sharingParametersOf other: UNet2DModel) {
        config = other.config
        unetConfig = other.unetConfig
        graph = UNetGraph(config: other.unetConfig)
        layout = graph.layout
        parameters = other.parameters
        gradients = FloatBuffer(count: layout.count)
    }

    /// PyTorch's default initialisation (nn.Conv2d / nn.Linear: weight and bias
    /// U(±1/sqrt(fan_in)), fan_in = in·k·k; GroupNorm: weight 1, bias 0) from the trainer's seeded
    /// generator; DeMe's projections start as the identity.
    public convenience init(config: ModelConfig, seed: UInt64) {
        let layout = UNet2DModel.layout(for: config)
        var rng = TrainerRandom.derived(seed: seed, stream: 0x4E37)
        var values = [Float](repeating: 0, count: layout.count)
        for e in layout.entries {
            let isNorm = e.name.contains("norm") && !e.name.contains("time_emb_proj")
            if isNorm {
                if e.name.hasSuffix(".weight") { for j in 0..<e.count { values[e.offset + j] = 1 } }
                continue
            }
            if e.name.hasSuffix(".channel_projection.weight") {
                let C = e.shape[0]
                for i in 0..<C { values[e.offset + i * C + i] = 1 }
                continue
            }
            let weightName = e.name.hasSuffix(".bias") ? String(e.name.dropLast(4)) + "weight" : e.name
            let fanIn = layout.entry(weightName)!.shape.dropFirst().reduce(1, *)
            let bound = 1 / Float(fanIn).squareRoot()
            for j in 0..<e.count { values[e.offset + j] = (2 * rng.uniform() - 1) * bound }
        }
        self.init(config: config, parameters: values)
    }

    public func replicaSharingParameters() -> UNet2DModel { UNet2DModel(sharingParametersOf: self) }

    /// The same function with identity projections after every block (outputs unchanged).
    public func expandingWithIdentityProjections() -> UNet2DModel {
        if config.projections { return copy() }
        var c = config
        c.projections = true
        return UNet2DModel(config: c, parameters: layout.identityExpanded(parameters, into: UNet2DModel.layout(for: c)))
    }

    /// Evaluation: `predict`'s outputs (the training forward pass's, bit for bit).
    public func predictEpsilon(x: [Float], t: [Int]) -> [Float] {
        var out = [Float](repeating: 0, count: t.count * unetConfig.outChannels * unetConfig.sampleSize * unetConfig.sampleSize)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in predict(x: xp.baseAddress!, t: t, out: op.baseAddress!) }
        }
        return out
    }

    /// out = model(x, t) like `forward`, but keeping nothing for a backward pass (no normalised
    /// activations, sigmoids or attention probabilities written): evaluation and sampling. A
    /// `backward` after it first repeats the pass keeping them (the gradients are the same).
    public func predict(x: UnsafePointer<Float>, t: [Int], out: UnsafeMutablePointer<Float>) {
        precondition(!t.isEmpty, "empty batch")
        graph.allocate(batch: t.count)
        graph.forward(x: x, t: t, out: out, graph.context(parameters, gradients, dropout: dropout, keeps: false))
    }

    /// out [B, out_channels, S, S] = model(x [B, in_channels, S, S], t); keeps activations for
    /// `backward`. Activations are allocated when the batch size changes, and reused otherwise.
    public func forward(x: UnsafePointer<Float>, t: [Int], out: UnsafeMutablePointer<Float>) {
        precondition(!t.isEmpty, "empty batch")
        graph.allocate(batch: t.count)
        graph.forward(x: x, t: t, out: out, graph.context(parameters, gradients, dropout: dropout))
    }

    /// Given dL/dout for the last `forward`, overwrites `gradients` with dL/dparameters.
    public func backward(dOut: UnsafePointer<Float>) {
        precondition(graph.batch > 0, "backward before forward")
        graph.backward(dOut: dOut, graph.context(parameters, gradients, dropout: dropout))
    }
}

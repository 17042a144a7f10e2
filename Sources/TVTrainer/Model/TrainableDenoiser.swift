/// A denoiser the trainer can train, finetune, merge and save: one flat parameter vector in a
/// named layout (PyTorch names, checkpoint order), a forward pass that keeps what the backward
/// pass needs, and a backward pass that overwrites `gradients`. Everything above the model
/// (trainer, checkpoints, evaluation, DeMe, sweeps) uses only this, so a second architecture is
/// one new conforming type plus one line in `DenoiserArchitectures.all`.
///
/// Not thread-safe (scratch buffers): use one instance per thread; `replicaSharingParameters()`
/// gives a second instance over the same parameters for data-parallel halves of a batch.
public protocol TrainableDenoiser: Denoiser {
    /// The `ModelConfig.architecture` value this type implements (recorded in checkpoints).
    static var architecture: String { get }
    /// The parameter layout of a config, in checkpoint order.
    static func layout(for config: ModelConfig) -> ParameterLayout
    /// Checks the architecture-specific fields of a config (the common ones are checked by
    /// `ModelConfig.validate`).
    static func validate(_ config: ModelConfig, source: String) throws(TrainerError)

    /// A model with the given flat parameters (layout order), e.g. a merged parameter vector.
    init(config: ModelConfig, parameters: [Float])
    /// A freshly initialised model, reproducible for a seed.
    init(config: ModelConfig, seed: UInt64)

    var config: ModelConfig { get }
    var layout: ParameterLayout { get }
    var parameters: FloatBuffer { get }
    var gradients: FloatBuffer { get }

    /// out[B, D] = eps_theta(x, t) with B = t.count; keeps activations for `backward`.
    func forward(x: UnsafePointer<Float>, t: [Int], out: UnsafeMutablePointer<Float>)
    /// Given dL/dout for the last `forward`, overwrites `gradients` with dL/dparameters.
    func backward(dOut: UnsafePointer<Float>)
    /// A second instance over the same parameter buffer (not a copy) with its own gradients and
    /// scratch: the trainer runs one half of a batch through each, concurrently.
    func replicaSharingParameters() -> Self
    /// The same function with DeMe's channel-wise projections inserted as identities (outputs
    /// unchanged, `config.projections` true); a model that already has them comes back as a copy.
    func expandingWithIdentityProjections() -> Self
}

extension TrainableDenoiser {
    public var dataDimension: Int { config.dataDimension }
    public var parameterCount: Int { layout.count }

    /// A copy with the same config and current parameters.
    public func copy() -> Self { Self(config: config, parameters: parameters.array) }

    /// A model of the same type and config with other parameters (e.g. a merge result).
    public func with(parameters values: [Float]) -> Self { Self(config: config, parameters: values) }
}

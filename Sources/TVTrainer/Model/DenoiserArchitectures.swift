/// The trainable architectures, looked up by `ModelConfig.architecture` (which every checkpoint
/// records), so loading a file builds the right type. A new architecture adds its type here.
public enum DenoiserArchitectures {
    public static var all: [any TrainableDenoiser.Type] { [MLPDenoiser.self, UNet2DModel.self] }

    public static var names: [String] { all.map { $0.architecture } }

    public static func type(named name: String) -> (any TrainableDenoiser.Type)? {
        all.first { $0.architecture == name }
    }

    /// The type implementing `config.architecture`.
    public static func type(for config: ModelConfig, source: String) throws(TrainerError) -> any TrainableDenoiser.Type {
        guard let t = type(named: config.architecture) else {
            throw .badConfig(source: source, reason: "unknown architecture '\(config.architecture)' (known: \(names.joined(separator: ", ")))")
        }
        return t
    }

    /// A model of `config`'s architecture with the given flat parameters (`config` must be valid).
    public static func model(config: ModelConfig, parameters: [Float]) throws(TrainerError) -> any TrainableDenoiser {
        try type(for: config, source: "config").init(config: config, parameters: parameters)
    }

    /// A freshly initialised model of `config`'s architecture (`config` must be valid).
    public static func model(config: ModelConfig, seed: UInt64) throws(TrainerError) -> any TrainableDenoiser {
        try type(for: config, source: "config").init(config: config, seed: seed)
    }

    /// The parameter layout of a config.
    public static func layout(for config: ModelConfig) throws(TrainerError) -> ParameterLayout {
        try type(for: config, source: "config").layout(for: config)
    }
}

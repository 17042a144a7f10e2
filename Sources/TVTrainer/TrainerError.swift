import TVStorage

/// Errors of the trainer: bad data, bad checkpoints, bad settings. One line each, naming the file.
public enum TrainerError: BadInputError, Equatable {
    case badConfig(source: String, reason: String)
    /// A well-formed config describing a model tvtool's trainer does not build (e.g. a diffusers
    /// UNet2DModel with SkipDownBlock2D or Fourier time embeddings): the weights are still mergeable.
    case unsupportedConfig(source: String, reason: String)
    case missingTensor(source: String, tensor: String)
    case wrongShape(source: String, tensor: String, expected: [Int], found: [Int])
    case badData(source: String, reason: String)
    case badArgument(String)

    public var description: String {
        switch self {
        case let .badConfig(source, reason): return "\(source): bad model config: \(reason)"
        case let .unsupportedConfig(source, reason): return "\(source): model config not supported by tvtool's trainer: \(reason)"
        case let .missingTensor(source, tensor): return "\(source): missing tensor '\(tensor)'"
        case let .wrongShape(source, tensor, expected, found):
            return "\(source): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case let .badData(source, reason): return "\(source): \(reason)"
        case let .badArgument(reason): return reason
        }
    }
}

import TVStorage

/// Errors of the DeMe pipeline: bad arguments, inconsistent checkpoints, failed evaluations.
/// Each description is one line naming the file or tensor involved.
public enum DeMeError: BadInputError, Equatable {
    case invalidArgument(String)
    case mismatchedModels(path: String, reason: String)
    case missingTensor(path: String, tensor: String)
    case evaluationFailed(String)

    public var description: String {
        switch self {
        case let .invalidArgument(what): return what
        case let .mismatchedModels(path, reason): return "\(path): \(reason)"
        case let .missingTensor(path, tensor): return "\(path): no tensor named '\(tensor)'"
        case let .evaluationFailed(what): return "evaluation failed: \(what)"
        }
    }
}

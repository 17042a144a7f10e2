import TVStorage

/// Errors of `tvtool lora`: one line naming the file and the LoRA module or tensor.
public enum LoRAError: BadInputError, UsageClassifiedError, Equatable {
    /// A key that belongs to no LoRA naming we know (or a LoRA variant we do not bake: DoRA, LoHa…).
    case unknownKey(path: String, key: String)
    /// A module with a down but no up matrix (or the reverse).
    case incompleteModule(path: String, module: String, missing: String)
    /// LoRA modules that map to no tensor of the model.
    case unmatched(path: String, modules: [String], model: String)
    /// Two modules (or two model tensors) claim the same target.
    case ambiguous(path: String, module: String, tensors: [String])
    case badShape(path: String, module: String, reason: String)
    /// An update kind tvtool does not bake (DoRA, OFT, IA3, …).
    case unsupportedKind(path: String, module: String, kind: String)
    case badConfig(path: String, reason: String)
    case badRank(Int)
    case nothingToExtract(path: String)

    public var isUsageMistake: Bool { if case .badRank = self { return true } else { return false } }

    public var description: String {
        switch self {
        case let .unknownKey(path, key):
            return "\(path): '\(key)' is not a LoRA key (expected kohya lora_down/lora_up/alpha, diffusers lora.down/lora.up, PEFT lora_A/lora_B, LyCORIS hada_* or lokr_*)"
        case let .incompleteModule(path, module, missing):
            return "\(path): LoRA module '\(module)' has no \(missing) matrix"
        case let .unmatched(path, modules, model):
            let shown = modules.prefix(3).map { "'\($0)'" }.joined(separator: ", ")
            let more = modules.count > 3 ? " and \(modules.count - 3) more" : ""
            return "\(path): LoRA module \(shown)\(more) matches no tensor of \(model) (use --allow-unmatched to bake the rest)"
        case let .ambiguous(path, module, tensors):
            return "\(path): LoRA module '\(module)' matches several tensors (\(tensors.joined(separator: ", ")))"
        case let .unsupportedKind(path, module, kind):
            return "\(path): LoRA module '\(module)' is \(kind), which tvtool does not bake (LoRA, LoHa and LoKr are baked)"
        case let .badShape(path, module, reason):
            return "\(path): LoRA module '\(module)': \(reason)"
        case let .badConfig(path, reason):
            return "\(path): \(reason)"
        case let .badRank(r):
            return "--rank must be at least 1, got \(r)"
        case let .nothingToExtract(path):
            return "\(path): no 2-D or conv weight to factorise"
        }
    }
}

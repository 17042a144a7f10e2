/// Ways a PyTorch checkpoint can be wrong or unsafe. Each message is one line naming the file and,
/// where there is one, the tensor, entry, global or opcode.
public enum PyTorchError: BadInputError, Equatable {
    case legacyFormat(path: String)
    case missingDataPickle(path: String)
    case torchScriptArchive(path: String)
    case ambiguousArchive(path: String, roots: [String])
    case unsupportedByteOrder(path: String, order: String)
    /// The pickle names a global outside the allowlist (nothing was imported or called).
    case forbiddenGlobal(path: String, global: String)
    /// The pickle uses an opcode outside the implemented set.
    case forbiddenOpcode(path: String, opcode: String, offset: Int)
    case malformedPickle(path: String, offset: Int, reason: String)
    case limitExceeded(path: String, what: String)
    case unexpectedStructure(path: String, what: String)
    case nestedKeyNotFound(path: String, key: String)
    case missingStorage(path: String, tensor: String, entry: String)
    case storageSizeMismatch(path: String, entry: String, declaredBytes: Int, actualBytes: Int)
    case storageTooShort(path: String, tensor: String, neededBytes: Int, storageBytes: Int)
    case invalidTensor(path: String, tensor: String, reason: String)
    case duplicateTensorName(path: String, tensor: String)

    public var description: String {
        switch self {
        case let .legacyFormat(path):
            return "\(path): legacy torch format (before torch 1.6) is not supported, re-save it with a current torch (torch.save(torch.load(f), f))"
        case let .missingDataPickle(path):
            return "\(path): not a PyTorch checkpoint: the archive has no <root>/data.pkl"
        case let .torchScriptArchive(path):
            return "\(path): a TorchScript archive (torch.jit.save) is a program, not a state dict: save module.state_dict() with torch.save"
        case let .ambiguousArchive(path, roots):
            return "\(path): archive holds several checkpoints (\(roots.joined(separator: ", "))/data.pkl)"
        case let .unsupportedByteOrder(path, order):
            return "\(path): checkpoint was saved with byte order '\(order)'; only little-endian is supported"
        case let .forbiddenGlobal(path, global):
            return "\(path): refusing global '\(global)' in data.pkl: it names process, shell or code-evaluation machinery, which no checkpoint needs (nothing from the file is ever executed)"
        case let .forbiddenOpcode(path, opcode, offset):
            return "\(path): refusing pickle opcode \(opcode) at byte \(offset) of data.pkl (not used by state dicts)"
        case let .malformedPickle(path, offset, reason):
            return "\(path): malformed data.pkl at byte \(offset): \(reason)"
        case let .limitExceeded(path, what):
            return "\(path): data.pkl exceeds a safety limit: \(what)"
        case let .unexpectedStructure(path, what):
            return "\(path): not a state dict: \(what)"
        case let .nestedKeyNotFound(path, key):
            return "\(path): no dict of tensors under key '\(key)'"
        case let .missingStorage(path, tensor, entry):
            return "\(path): tensor '\(tensor)': storage entry '\(entry)' is missing from the archive"
        case let .storageSizeMismatch(path, entry, declared, actual):
            return "\(path): storage '\(entry)' holds \(actual) bytes but the pickle declares \(declared)"
        case let .storageTooShort(path, tensor, needed, available):
            return "\(path): tensor '\(tensor)' needs \(needed) bytes of its storage, which holds only \(available)"
        case let .invalidTensor(path, tensor, reason):
            return "\(path): tensor '\(tensor)': \(reason)"
        case let .duplicateTensorName(path, tensor):
            return "\(path): tensor name '\(tensor)' occurs twice"
        }
    }
}

/// Errors caused by bad input (files, arguments, data). Every tvtool error type conforms, and its
/// `description` is one line that names the file and, where there is one, the tensor. The CLI prints
/// that line and exits with code 2.
public protocol BadInputError: Error, CustomStringConvertible, Sendable {}

/// An error type some of whose cases are the user's usage mistakes (unknown method, wrong number
/// of weights, an option value out of range): the CLI exits with 1 for those, as for a parse error,
/// and with 2 for the rest.
public protocol UsageClassifiedError: Error {
    var isUsageMistake: Bool { get }
}

/// Format-independent storage errors. Format readers have their own error enums
/// (`SafetensorsError`, `HDF5Error`, …) with one case per way a file can be wrong.
public enum StorageError: BadInputError, Equatable {
    case cannotOpen(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case unknownFormat(path: String)
    case notSupportedYet(path: String, what: String)
    case tensorNotFound(path: String, tensor: String)
    case notArithmetic(path: String, tensor: String, dtype: DType)
    case wouldOverwriteInput(path: String)
    case invalidTensor(tensor: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "\(path): cannot open: \(reason)"
        case let .cannotWrite(path, reason): return "\(path): cannot write: \(reason)"
        case let .unknownFormat(path): return "\(path): unknown checkpoint format (expected .safetensors, .h5/.hdf5, .bin/.pt/.ckpt, a shard index or a diffusers folder)"
        case let .notSupportedYet(path, what): return "\(path): \(what) is not supported yet"
        case let .tensorNotFound(path, tensor): return "\(path): no tensor named '\(tensor)'"
        case let .notArithmetic(path, tensor, dtype): return "\(path): tensor '\(tensor)' has dtype \(dtype.rawValue), which tvtool cannot compute on"
        case let .wouldOverwriteInput(path): return "\(path): refusing to overwrite an input of this command"
        case let .invalidTensor(tensor, reason): return "tensor '\(tensor)': \(reason)"
        }
    }
}

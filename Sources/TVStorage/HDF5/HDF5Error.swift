/// Everything that can go wrong reading or writing an HDF5 checkpoint. Each description is one
/// line naming the file and, where there is one, the dataset or tensor.
public enum HDF5Error: BadInputError, Equatable {
    /// The file exists but carries no HDF5 signature (at offset 0, 512, 1024, 2048, …).
    case notHDF5(path: String)
    /// libhdf5 refused to open the file (truncated, damaged superblock, permissions, …).
    case cannotOpen(path: String, reason: String)
    /// The file opened but its structure (groups, datatypes, dataspaces) cannot be read.
    case corrupt(path: String, object: String, reason: String)
    /// Reading a dataset's values failed (damaged chunk, failed filter, …).
    case readFailed(path: String, tensor: String, reason: String)
    /// The output file could not be created, written or moved into place.
    case writeFailed(path: String, reason: String)
    case tensorWriteFailed(path: String, tensor: String, reason: String)
    /// A tensor name that cannot become an HDF5 path (empty part, '/', …).
    case invalidName(path: String, name: String, reason: String)
    /// Two tensor names need one HDF5 object to be both a dataset and a group ("a" and "a.b").
    case nameConflict(path: String, dataset: String, group: String)
    case duplicateTensor(path: String, tensor: String)
    case invalidMetadataKey(path: String, key: String)
    /// A dtype HDF5 (and h5py) has no representation for.
    case unsupportedDType(path: String, tensor: String, dtype: DType)
    case undeclaredTensor(path: String, tensor: String)
    case alreadyWritten(path: String, tensor: String)
    case mismatch(path: String, tensor: String, declared: String, got: String)
    case missingTensors(path: String, names: [String])
    case writerClosed(path: String)

    /// One line whatever the file holds: names quoted from it have control characters escaped.
    public var description: String { Console.oneLine(message) }

    private var message: String {
        switch self {
        case let .notHDF5(path): return "\(path): not an HDF5 file (no HDF5 signature found)"
        case let .cannotOpen(path, reason): return "\(path): cannot open HDF5 file: \(reason)"
        case let .corrupt(path, object, reason): return "\(path): corrupt HDF5 object '\(object)': \(reason)"
        case let .readFailed(path, tensor, reason): return "\(path): cannot read tensor '\(tensor)': \(reason)"
        case let .writeFailed(path, reason): return "\(path): cannot write HDF5 file: \(reason)"
        case let .tensorWriteFailed(path, tensor, reason): return "\(path): cannot write tensor '\(tensor)': \(reason)"
        case let .invalidName(path, name, reason): return "\(path): tensor name '\(name)' cannot be stored in HDF5: \(reason)"
        case let .nameConflict(path, dataset, group):
            return "\(path): tensor '\(dataset)' would be both a dataset and the group holding '\(group)' in HDF5; rename one of them"
        case let .duplicateTensor(path, tensor): return "\(path): tensor '\(tensor)' is declared twice"
        case let .invalidMetadataKey(path, key): return "\(path): metadata key '\(key)' cannot be an HDF5 attribute name"
        case let .unsupportedDType(path, tensor, dtype):
            return "\(path): tensor '\(tensor)' has dtype \(dtype.rawValue), which HDF5 files cannot hold (write .safetensors instead)"
        case let .undeclaredTensor(path, tensor): return "\(path): tensor '\(tensor)' was not declared when the writer was created"
        case let .alreadyWritten(path, tensor): return "\(path): tensor '\(tensor)' was already written"
        case let .mismatch(path, tensor, declared, got): return "\(path): tensor '\(tensor)' was declared as \(declared) but is \(got)"
        case let .missingTensors(path, names):
            let shown = names.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            return "\(path): \(names.count) declared tensor(s) never written: \(shown)\(names.count > 5 ? ", …" : "")"
        case let .writerClosed(path): return "\(path): the writer was already finished or aborted"
        }
    }
}

/// A value on the restricted unpickler's stack. Deliberately flat (no indirect cases): containers
/// are indices into a `PickleArena`, so a hostile pickle cannot build a structure whose
/// destruction recurses deeply, and cycles cost nothing. Walkers of the arena bound their depth.
enum PickleValue: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer outside Int64 (LONG1/LONG4), kept only as its byte length for messages.
    case bigInt(byteCount: Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(Int)
    case list(Int)
    case dict(Int)
    /// A class or function from the allowlist (never imported, only named).
    case global(AllowedGlobal)
    /// A tensor storage (from a persistent id), index into `PickleArena.storages`.
    case storage(Int)
    /// A tensor, index into `PickleArena.tensors`.
    case tensor(Int)
    /// A scalar rebuilt from numpy/codecs helpers (numpy.core.multiarray.scalar), kept as a note.
    case numpyScalar(String)
    /// A numpy dtype object (argument of numpy scalars).
    case numpyDType(String)
    /// A numpy array, index into `PickleArena.arrays` (only with `Unpickler.allowsNumpyArrays`).
    case ndarray(Int)
    /// An instance of a class outside the allowlist (a pickled nn.Module, a config dict, …),
    /// kept as an inert record: index into `PickleArena.objects`. Its class never runs.
    case object(Int)

    /// Short description for messages ("int", "str", "tensor", …).
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case let .global(g): return "global \(g.qualifiedName)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        case .numpyScalar: return "numpy scalar"
        case .numpyDType: return "numpy dtype"
        case .ndarray: return "numpy array"
        case .object: return "object"
        }
    }
}

/// A storage named by a persistent id `('storage', torch.<T>Storage, key, location, numel)`:
/// its bytes are the archive entry `<root>/data/<key>`.
struct StorageRef: Sendable, Equatable {
    let key: String
    /// Element type of the storage class (U8 for UntypedStorage, whose numel counts bytes).
    let dtype: DType
    let elementCount: Int
}

/// A tensor as `_rebuild_tensor_v2/v3` describes it: a strided view into a storage.
/// `offset` and `stride` count elements of `dtype`.
struct TensorRef: Sendable, Equatable {
    let storage: Int
    let dtype: DType
    let offset: Int
    let shape: [Int]
    let stride: [Int]
}

/// Everything an unpickled value refers to. Owned by one unpickling; freed as a whole.
struct PickleArena: Sendable {
    var tuples: [[PickleValue]] = []
    var lists: [[PickleValue]] = []
    var dicts: [[(key: PickleValue, value: PickleValue)]] = []
    var storages: [StorageRef] = []
    var tensors: [TensorRef] = []
    var objects: [PickleObject] = []
    /// Storage index by key: several tensors sharing one storage refer to the same StorageRef.
    var storageIndex: [String: Int] = [:]
    /// numpy arrays: nil until their BUILD gives shape, dtype and bytes.
    var arrays: [NumpyArrayData?] = []
}

/// A numpy array rebuilt from its pickled state `(version, shape, dtype, is_fortran, raw bytes)`.
public struct NumpyArrayData: Sendable, Equatable {
    public let shape: [Int]
    /// numpy type code, e.g. "u1".
    public let dtype: String
    public let fortranOrder: Bool
    public let bytes: [UInt8]
}

/// An inert record of what the pickle asked a foreign class or function to do: its qualified name,
/// the arguments of the REDUCE/NEWOBJ, the state given by BUILD, and items added by
/// SETITEM(S)/APPEND(S) (how dict and list subclasses pickle their contents). Nothing is called.
struct PickleObject: Sendable {
    let className: String
    let args: PickleValue
    var state: PickleValue = .none
    var dictItems: [(key: PickleValue, value: PickleValue)] = []
    var listItems: [PickleValue] = []
}

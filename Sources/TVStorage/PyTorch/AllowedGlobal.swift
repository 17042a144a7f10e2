/// The globals a checkpoint pickle may name. Resolving a name never imports or calls anything:
/// it maps the (module, name) pair to a case. State-dict globals have their own cases; any other
/// class or function becomes `.inert` (a pickled nn.Module names its classes: they are recorded,
/// never run), except the names of `DeniedGlobals`, which no checkpoint has a reason to name and
/// which are refused so that a hostile file fails loudly.
enum AllowedGlobal: Sendable, Equatable {
    case orderedDict
    case rebuildTensorV2
    case rebuildTensorV3
    case rebuildParameter
    case rebuildParameterWithState
    /// `torch._tensor._rebuild_from_type_v2(func, type, args, state)`: a tensor carrying Python
    /// attributes; rebuilt as `func(*args)` (the attributes are dropped).
    case rebuildFromTypeV2
    /// `torch.Tensor` / `torch.nn.parameter.Parameter`, as the `type` argument above.
    case tensorClass(name: String)
    /// `torch.<T>Storage` (typed) or `torch.storage.UntypedStorage` (U8: numel counts bytes).
    case storageClass(DType, name: String)
    /// `torch.float16`, … as passed to `_rebuild_tensor_v3`.
    case torchDType(DType, name: String)
    /// `_codecs.encode` (how protocol 2 pickles bytes) and numpy scalar helpers.
    case codecsEncode
    case numpyScalar
    case numpyDType
    /// `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')` + BUILD: how numpy arrays
    /// pickle (e.g. CIFAR-10's python batches). Resolved only by unpicklers that allow numpy
    /// arrays (`Unpickler.allowsNumpyArrays`); rebuilt as inert bytes, never as an object.
    case numpyReconstruct
    case numpyNDArray
    /// `builtins.set` / `frozenset` (how protocol 2 pickles a set, e.g. a module's
    /// `_non_persistent_buffers_set`): rebuilt as a list.
    case builtinSet(name: String)
    /// Any other class or function: calling it makes a `PickleObject` record.
    case inert(qualifiedName: String)

    static func resolve(module: String, name: String) -> AllowedGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor_v3"): return .rebuildTensorV3
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): return .rebuildParameterWithState
        case ("torch._tensor", "_rebuild_from_type_v2"): return .rebuildFromTypeV2
        case ("torch", "Tensor"), ("torch.nn.parameter", "Parameter"): return .tensorClass(name: module + "." + name)
        case ("torch.storage", "UntypedStorage"): return .storageClass(.u8, name: name)
        case ("_codecs", "encode"): return .codecsEncode
        case ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"): return .numpyScalar
        case ("numpy", "dtype"): return .numpyDType
        case ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"): return .numpyReconstruct
        case ("numpy", "ndarray"): return .numpyNDArray
        case ("builtins", "set"), ("__builtin__", "set"), ("builtins", "frozenset"), ("__builtin__", "frozenset"):
            return .builtinSet(name: module + "." + name)
        case ("torch", _):
            if let d = storageDTypes[name] { return .storageClass(d, name: name) }
            if let d = torchDTypes[name] { return .torchDType(d, name: name) }
            return .inert(qualifiedName: module + "." + name)
        default:
            if DeniedGlobals.refuses(module: module, name: name) { return nil }
            return .inert(qualifiedName: module + "." + name)
        }
    }

    var qualifiedName: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildTensorV3: return "torch._utils._rebuild_tensor_v3"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: return "torch._utils._rebuild_parameter_with_state"
        case .rebuildFromTypeV2: return "torch._tensor._rebuild_from_type_v2"
        case let .tensorClass(name): return name
        case let .storageClass(_, name): return name == "UntypedStorage" ? "torch.storage.UntypedStorage" : "torch.\(name)"
        case let .torchDType(_, name): return "torch.\(name)"
        case .codecsEncode: return "_codecs.encode"
        case .numpyScalar: return "numpy.core.multiarray.scalar"
        case .numpyDType: return "numpy.dtype"
        case .numpyReconstruct: return "numpy.core.multiarray._reconstruct"
        case .numpyNDArray: return "numpy.ndarray"
        case let .builtinSet(name): return name
        case let .inert(name): return name
        }
    }

    private static let storageDTypes: [String: DType] = [
        "DoubleStorage": .f64, "FloatStorage": .f32, "HalfStorage": .f16, "BFloat16Storage": .bf16,
        "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8,
        "ByteStorage": .u8, "BoolStorage": .bool, "ComplexFloatStorage": .c64,
    ]

    private static let torchDTypes: [String: DType] = [
        "float64": .f64, "float32": .f32, "float16": .f16, "bfloat16": .bf16,
        "int64": .i64, "int32": .i32, "int16": .i16, "int8": .i8, "uint8": .u8, "bool": .bool,
        "uint16": .u16, "uint32": .u32, "uint64": .u64, "complex64": .c64,
        "float8_e4m3fn": .f8e4m3, "float8_e5m2": .f8e5m2, "float8_e8m0fnu": .f8e8m0,
        "float8_e4m3fnuz": .f8e4m3fnuz, "float8_e5m2fnuz": .f8e5m2fnuz,
    ]
}

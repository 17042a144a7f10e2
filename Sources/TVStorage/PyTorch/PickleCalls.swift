/// What REDUCE, NEWOBJ, BUILD and BINPERSID mean for the allowlisted globals. Each case rebuilds
/// plain data (a dict, a tensor description, a storage reference) from its arguments; no Python
/// callable exists here, so no code from the file can run.
extension Unpickler {
    mutating func call(_ callable: PickleValue, _ args: PickleValue, opcode: String) throws(PyTorchError) -> PickleValue {
        guard case let .global(g) = callable else { throw malformed("\(opcode) on a \(callable.kind), not a class or function") }
        guard case let .tuple(t) = args else { throw malformed("\(opcode) arguments are a \(args.kind), not a tuple") }
        let a = arena.tuples[t]
        switch g {
        case .orderedDict:
            guard a.isEmpty else { throw malformed("OrderedDict with arguments") }
            return .dict(try newDict([]))
        case .rebuildTensorV2:
            guard a.count == 6 || a.count == 7 else { throw malformed("_rebuild_tensor_v2 takes 6 or 7 arguments, got \(a.count)") }
            return try rebuildTensor(a, dtypeOverride: nil)
        case .rebuildTensorV3:
            guard a.count == 7 || a.count == 8 else { throw malformed("_rebuild_tensor_v3 takes 7 or 8 arguments, got \(a.count)") }
            guard case let .global(.torchDType(dtype, _)) = a[6] else { throw malformed("_rebuild_tensor_v3 without a torch dtype") }
            return try rebuildTensor(a, dtypeOverride: dtype)
        case .rebuildParameter, .rebuildParameterWithState:
            // (data, requires_grad, backward_hooks[, state]): a Parameter is its data tensor.
            guard a.count == (g == .rebuildParameter ? 3 : 4), case .tensor = a[0] else {
                throw malformed("\(g.qualifiedName) needs a tensor and \(g == .rebuildParameter ? 2 : 3) more arguments")
            }
            return a[0]
        case .rebuildFromTypeV2:
            guard a.count == 4, case let .global(inner) = a[0], inner == .rebuildTensorV2 || inner == .rebuildTensorV3,
                  case .global(.tensorClass) = a[1] else {
                throw malformed("_rebuild_from_type_v2 needs a tensor rebuild function and a tensor class")
            }
            return try call(a[0], a[2], opcode: opcode)
        case .codecsEncode:
            // How protocol 2 pickles bytes: _codecs.encode(str, "latin1").
            guard a.count == 2, case let .string(s) = a[0], case let .string(enc) = a[1], enc == "latin1" || enc == "latin-1" else {
                throw malformed("unsupported _codecs.encode arguments")
            }
            var out: [UInt8] = []
            for u in s.unicodeScalars {
                guard u.value < 256 else { throw malformed("_codecs.encode: character outside latin1") }
                out.append(UInt8(u.value))
            }
            return .bytes(out)
        case .numpyDType:
            // The code is a str, or bytes in Python 2 pickles (e.g. CIFAR-10's batches).
            switch a.first {
            case let .string(code)?: return .numpyDType(code)
            case let .bytes(b)? where b.count <= 16: return .numpyDType(String(decoding: b, as: UTF8.self))
            default: throw malformed("numpy.dtype without a type code")
            }
        case .numpyScalar:
            guard a.count == 2, case let .numpyDType(code) = a[0], case let .bytes(b) = a[1] else {
                throw malformed("unsupported numpy scalar arguments")
            }
            return .numpyScalar("numpy \(code) scalar (\(b.count) bytes)")
        case .builtinSet:
            // set(iterable) / set(): the members as a list.
            guard let first = a.first else { return .list(try newList([])) }
            switch first {
            case let .list(l): return .list(try newList(arena.lists[l]))
            case let .tuple(t): return .list(try newList(arena.tuples[t]))
            default: throw malformed("\(g.qualifiedName) of a \(first.kind)")
            }
        case let .inert(name):
            guard arena.objects.count < Self.maxContainers else { throw limit("too many objects") }
            arena.objects.append(PickleObject(className: name, args: args))
            return .object(arena.objects.count - 1)
        case .numpyReconstruct:
            // _reconstruct(ndarray, (0,), b'b'): an empty array that BUILD fills in.
            guard a.count == 3, case .global(.numpyNDArray) = a[0] else { throw malformed("unsupported _reconstruct arguments") }
            guard arena.arrays.count < Self.maxContainers else { throw limit("too many arrays") }
            arena.arrays.append(nil)
            return .ndarray(arena.arrays.count - 1)
        case .storageClass, .torchDType, .tensorClass, .numpyNDArray:
            throw malformed("\(opcode) on \(g.qualifiedName), which is not callable in a state dict")
        }
    }

    /// BUILD sets an object's state. State dicts carry `_metadata` this way (ignored); numpy dtypes
    /// and parameters carry theirs too; an inert object records it (a module's `__dict__`).
    mutating func build(_ target: PickleValue, state: PickleValue) throws(PyTorchError) {
        switch target {
        case .dict, .tensor, .numpyDType: return
        case let .ndarray(i):
            arena.arrays[i] = try numpyArrayState(state)
        case let .object(o): arena.objects[o].state = state
        default: throw malformed("BUILD on a \(target.kind)")
        }
    }

    /// ndarray.__setstate__'s tuple (version, shape, dtype, is_fortran, raw bytes); the byte
    /// count must match the shape (1-byte types only: the callers read uint8 image data).
    private func numpyArrayState(_ state: PickleValue) throws(PyTorchError) -> NumpyArrayData {
        guard case let .tuple(t) = state, arena.tuples[t].count == 5 else { throw malformed("numpy array state is not a 5-tuple") }
        let s = arena.tuples[t]
        let shape = try intTuple(s[1], what: "numpy shape")
        guard case let .numpyDType(code) = s[2] else { throw malformed("numpy array state without a dtype") }
        let fortran: Bool
        switch s[3] {
        case let .bool(b): fortran = b
        case let .int(i): fortran = i != 0
        default: throw malformed("numpy array order flag is a \(s[3].kind)")
        }
        guard case let .bytes(raw) = s[4] else { throw malformed("numpy array data is a \(s[4].kind), not bytes") }
        guard ["u1", "i1", "b1"].contains(code) else { throw malformed("numpy array of dtype '\(code)' (only 1-byte types are read)") }
        var count = 1
        for d in shape {
            guard d >= 0, count.multipliedReportingOverflow(by: max(d, 1)).overflow == false else { throw malformed("numpy shape \(shape)") }
            count *= d
        }
        guard count == raw.count else { throw malformed("numpy array of shape \(shape) holds \(raw.count) bytes") }
        return NumpyArrayData(shape: shape, dtype: code, fortranOrder: fortran, bytes: raw)
    }

    /// BINPERSID: torch's persistent id for a storage,
    /// `('storage', torch.<T>Storage, key, location, numel)`.
    mutating func persistentLoad(_ pid: PickleValue) throws(PyTorchError) -> PickleValue {
        guard case let .tuple(t) = pid else { throw malformed("persistent id is a \(pid.kind), not a tuple") }
        let p = arena.tuples[t]
        guard p.count == 5, case .string("storage") = p[0] else { throw malformed("persistent id is not a storage") }
        guard case let .global(.storageClass(dtype, _)) = p[1], case let .string(key) = p[2], case .string = p[3],
              case let .int(numel) = p[4], numel >= 0 else {
            throw malformed("malformed storage persistent id")
        }
        guard !key.isEmpty, !key.contains("/"), !key.contains("\\"), key != "..", key != "." else {
            throw malformed("storage key '\(key)' is not a plain name")
        }
        let ref = StorageRef(key: key, dtype: dtype, elementCount: numel)
        if let existing = arena.storageIndex[key] {
            guard arena.storages[existing] == ref else { throw malformed("storage '\(key)' declared twice with different types or sizes") }
            return .storage(existing)
        }
        guard arena.storages.count < Self.maxContainers else { throw limit("too many storages") }
        arena.storages.append(ref)
        arena.storageIndex[key] = arena.storages.count - 1
        return .storage(arena.storages.count - 1)
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`
    /// (v3 adds the dtype, for storages saved untyped). Shape and strides are checked here;
    /// whether the storage is long enough is checked when the archive is known.
    private mutating func rebuildTensor(_ a: [PickleValue], dtypeOverride: DType?) throws(PyTorchError) -> PickleValue {
        guard case let .storage(s) = a[0] else { throw malformed("tensor storage is a \(a[0].kind)") }
        guard case let .int(offset) = a[1], offset >= 0 else { throw malformed("tensor storage offset is not a non-negative int") }
        let shape = try intTuple(a[2], what: "size"), stride = try intTuple(a[3], what: "stride")
        guard shape.count == stride.count else { throw malformed("tensor size and stride have different lengths") }
        guard shape.allSatisfy({ $0 >= 0 }), stride.allSatisfy({ $0 >= 0 }) else {
            throw malformed("tensor has a negative size or stride")
        }
        guard arena.tensors.count < Self.maxContainers else { throw limit("too many tensors") }
        let ref = TensorRef(storage: s, dtype: dtypeOverride ?? arena.storages[s].dtype, offset: offset, shape: shape, stride: stride)
        arena.tensors.append(ref)
        return .tensor(arena.tensors.count - 1)
    }

    private func intTuple(_ v: PickleValue, what: String) throws(PyTorchError) -> [Int] {
        guard case let .tuple(t) = v else { throw malformed("tensor \(what) is a \(v.kind), not a tuple") }
        var out: [Int] = []
        for item in arena.tuples[t] {
            guard case let .int(i) = item else { throw malformed("tensor \(what) holds a \(item.kind)") }
            out.append(i)
        }
        return out
    }
}

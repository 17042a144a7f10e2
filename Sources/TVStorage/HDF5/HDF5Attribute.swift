import CHDF5

/// One attribute of an HDF5 object, read into Swift values.
///
/// Metadata text (`text`): a scalar is its value (`"relu"`, `3`, `0.5`, `true`); an array of any
/// rank is a flattened JSON-style list (`[1, 2, 3]`, `["dense", "dense_1"]`).
struct HDF5Attribute: Sendable, Equatable {
    let name: String
    let text: String
    /// The values when the attribute holds strings (Keras `layer_names`, `weight_names`, `dtype`).
    let strings: [String]?
    let isScalar: Bool

    /// The value of a scalar (or one-element) string attribute.
    var stringValue: String? {
        guard let s = strings, s.count == 1 else { return nil }
        return s[0]
    }
}

enum HDF5AttributeIO {
    /// Attributes with more values than this are summarised instead of spelled out.
    static let maxValues = 65_536

    /// Reads every attribute of `object`. Attributes that cannot be represented (compound,
    /// references, …) go to `skipped` as "name: reason". Call inside `HDF5Library.locked`.
    static func readAll(of object: hid_t, skipped: inout [String]) -> [HDF5Attribute] {
        let count = tv_h5_attribute_count(object)
        guard count > 0 else { return [] }
        var result: [HDF5Attribute] = []
        for i in 0..<UInt64(count) {
            guard let attr = HDF5Handle(H5Aopen_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, i,
                                                       HDF5Library.defaultPlist, HDF5Library.defaultPlist), .attribute) else {
                skipped.append("attribute #\(i): \(HDF5Library.lastError(or: "cannot open"))")
                continue
            }
            let name = attributeName(attr.id)
            switch read(attr.id) {
            case .success(let value):
                result.append(HDF5Attribute(name: name, text: value.text, strings: value.strings, isScalar: value.scalar))
            case .failure(let reason):
                skipped.append("\(name): \(reason.text)")
            }
        }
        return result
    }

    private static func attributeName(_ attr: hid_t) -> String {
        let len = H5Aget_name(attr, 0, nil)
        guard len > 0 else { return "" }
        var buf = [CChar](repeating: 0, count: Int(len) + 1)
        _ = H5Aget_name(attr, buf.count, &buf)
        return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    private struct Value {
        var text: String
        var strings: [String]?
        var scalar: Bool
    }

    private static func read(_ attr: hid_t) -> Result<Value, HDF5TypeMapping.SkipReason> {
        guard let type = HDF5Handle(H5Aget_type(attr), .datatype),
              let space = HDF5Handle(H5Aget_space(attr), .dataspace) else {
            return .failure(.init(HDF5Library.lastError(or: "unreadable type or dataspace")))
        }
        let spaceClass = H5Sget_simple_extent_type(space.id)
        if spaceClass == H5S_NULL { return .success(Value(text: "", strings: nil, scalar: true)) }
        let scalar = spaceClass == H5S_SCALAR
        let n = Int(H5Sget_simple_extent_npoints(space.id))
        guard n >= 0 else { return .failure(.init("unreadable dataspace")) }
        if n > maxValues { return .success(Value(text: "<\(n) values>", strings: nil, scalar: false)) }

        switch H5Tget_class(type.id) {
        case H5T_STRING:
            guard let strings = readStrings(attr, type: type.id, count: n) else {
                return .failure(.init(HDF5Library.lastError(or: "unreadable string")))
            }
            let text = scalar ? (strings.first ?? "") : "[" + strings.map(jsonQuoted).joined(separator: ", ") + "]"
            return .success(Value(text: text, strings: strings, scalar: scalar))
        case H5T_INTEGER, H5T_FLOAT, H5T_ENUM:
            guard let items = readNumbers(attr, type: type.id, count: n) else {
                return .failure(.init(HDF5Library.lastError(or: "unreadable numeric value")))
            }
            let text = scalar && items.count == 1 ? items[0] : "[" + items.joined(separator: ", ") + "]"
            return .success(Value(text: text, strings: nil, scalar: scalar))
        default:
            return .failure(.init("unsupported attribute datatype"))
        }
    }

    /// Fixed-length strings are read into n+1-byte slots (a NULLPAD string of n bytes has no
    /// terminator); variable-length ones as library-allocated pointers freed with H5free_memory.
    private static func readStrings(_ attr: hid_t, type: hid_t, count n: Int) -> [String]? {
        guard let mem = HDF5Handle(H5Tcopy(tv_c_s1()), .datatype) else { return nil }
        _ = H5Tset_cset(mem.id, H5Tget_cset(type))
        if H5Tis_variable_str(type) > 0 {
            guard H5Tset_size(mem.id, tv_h5t_variable()) >= 0 else { return nil }
            var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: max(n, 1))
            guard H5Aread(attr, mem.id, &ptrs) >= 0 else { return nil }
            defer { for p in ptrs where p != nil { H5free_memory(p) } }
            return ptrs.prefix(n).map { $0.map { String(cString: $0) } ?? "" }
        }
        let width = Int(H5Tget_size(type)) + 1
        guard H5Tset_size(mem.id, width) >= 0, H5Tset_strpad(mem.id, H5T_STR_NULLTERM) >= 0 else { return nil }
        var buf = [UInt8](repeating: 0, count: max(n * width, 1))
        guard H5Aread(attr, mem.id, &buf) >= 0 else { return nil }
        return (0..<n).map { i in
            let slot = buf[(i * width)..<((i + 1) * width)]
            let end = slot.firstIndex(of: 0) ?? slot.endIndex
            return String(decoding: slot[slot.startIndex..<end], as: UTF8.self)
        }
    }

    /// Numbers as text: integers exactly, floats of up to 4 bytes via Float (shortest round-trip
    /// text, "0.1" not "0.10000000149011612"), wider ones via Double; bool enums as true/false.
    private static func readNumbers(_ attr: hid_t, type: hid_t, count n: Int) -> [String]? {
        let cls = H5Tget_class(type)
        if cls == H5T_ENUM {
            let size = Int(H5Tget_size(type))
            guard let base = HDF5Handle(H5Tget_super(type), .datatype) else { return nil }
            var raw = [UInt8](repeating: 0, count: max(n * max(size, 8), 8))
            guard H5Aread(attr, type, &raw) >= 0,
                  H5Tconvert(base.id, tv_native_int64(), n, &raw, nil, HDF5Library.defaultPlist) >= 0 else { return nil }
            let values = raw.withUnsafeBytes { b in (0..<n).map { b.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) } }
            if HDF5TypeMapping.isBoolEnum(type) { return values.map { $0 != 0 ? "true" : "false" } }
            return values.map(String.init)
        }
        if cls == H5T_INTEGER {
            if H5Tget_sign(type) == H5T_SGN_NONE {
                var v = [UInt64](repeating: 0, count: max(n, 1))
                guard H5Aread(attr, tv_native_uint64(), &v) >= 0 else { return nil }
                return v.prefix(n).map(String.init)
            }
            var v = [Int64](repeating: 0, count: max(n, 1))
            guard H5Aread(attr, tv_native_int64(), &v) >= 0 else { return nil }
            return v.prefix(n).map(String.init)
        }
        if H5Tget_size(type) <= 4 {
            var v = [Float](repeating: 0, count: max(n, 1))
            guard H5Aread(attr, tv_native_float(), &v) >= 0 else { return nil }
            return v.prefix(n).map { "\($0)" }
        }
        var v = [Double](repeating: 0, count: max(n, 1))
        guard H5Aread(attr, tv_native_double(), &v) >= 0 else { return nil }
        return v.prefix(n).map { "\($0)" }
    }

    /// Writes a scalar variable-length UTF-8 string attribute (what h5py writes for `str`).
    static func writeString(_ value: String, named name: String, on object: hid_t) -> Bool {
        guard let type = HDF5Handle(H5Tcopy(tv_c_s1()), .datatype),
              H5Tset_size(type.id, tv_h5t_variable()) >= 0,
              H5Tset_cset(type.id, H5T_CSET_UTF8) >= 0,
              let space = HDF5Handle(H5Screate(H5S_SCALAR), .dataspace),
              let attr = HDF5Handle(H5Acreate2(object, name, type.id, space.id,
                                               HDF5Library.defaultPlist, HDF5Library.defaultPlist), .attribute) else { return false }
        return value.withCString { cstr in
            var ptr: UnsafePointer<CChar>? = cstr
            return H5Awrite(attr.id, type.id, &ptr) >= 0
        }
    }

    static func jsonQuoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += "\\u00" + (u.value < 0x10 ? "0" : "") + String(u.value, radix: 16) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

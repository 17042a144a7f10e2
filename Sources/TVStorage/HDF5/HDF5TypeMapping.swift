import CHDF5

/// How a dataset's values become tensor bytes (little-endian, row-major, as `Tensor` wants).
///
/// Standard layouts are read raw (memory type = file type, so libhdf5 copies without converting)
/// and fixed up in Swift: byte swapping for big-endian data, 0/1 normalisation for bool enums.
/// That keeps f16/bf16 off libhdf5's very slow soft conversion path (see native-stack.md).
/// Only unusual layouts (odd precisions, non-IEEE floats) are converted by libhdf5.
struct HDF5ReadPlan: Sendable, Equatable {
    enum Memory: Sendable, Equatable {
        /// Read with the dataset's own type: bytes arrive exactly as stored.
        case raw
        /// Let libhdf5 convert into the little-endian standard type for `dtype`.
        case converted
    }

    var dtype: DType
    var memory: Memory
    /// Bytes per byte-swapped unit (0: no swap). C64 swaps each 4-byte half separately.
    var swapUnit: Int = 0
    /// Bool stored as an enum of `elementSize` bytes: any nonzero element becomes 1.
    var boolElementSize: Int = 0
    /// Said in the reader's notes (e.g. "converted by libhdf5").
    var note: String? = nil
}

enum HDF5TypeMapping {
    /// The read plan for a dataset of file type `type`, or the reason it is skipped.
    /// `dtypeAttribute` is the dataset's `dtype` attribute, if any (Keras 3 writes "bfloat16" on
    /// 2-byte integer or opaque datasets; tvtool's writer writes F8 names on uint8 datasets).
    /// Call inside `HDF5Library.locked`.
    static func plan(for type: hid_t, dtypeAttribute: String?) -> Result<HDF5ReadPlan, SkipReason> {
        let cls = H5Tget_class(type)
        let size = Int(H5Tget_size(type))
        let bigEndian = H5Tget_order(type) == H5T_ORDER_BE

        if let tag = dtypeAttribute, let tagged = taggedDType(tag), tagged.bitWidth == size * 8,
           cls == H5T_INTEGER || cls == H5T_OPAQUE {
            let swap = cls == H5T_INTEGER && bigEndian && size > 1 ? size : 0
            return .success(HDF5ReadPlan(dtype: tagged, memory: .raw, swapUnit: swap))
        }
        switch cls {
        case H5T_INTEGER:
            return integerPlan(type, size: size, bigEndian: bigEndian)
        case H5T_FLOAT:
            return floatPlan(type, size: size, bigEndian: bigEndian)
        case H5T_ENUM:
            if isBoolEnum(type) {
                return .success(HDF5ReadPlan(dtype: .bool, memory: .raw, boolElementSize: size))
            }
            guard let base = HDF5Handle(H5Tget_super(type), .datatype) else { return .failure(.init("enum with unreadable base type")) }
            return integerPlan(base.id, size: size, bigEndian: bigEndian).map { plan in
                var p = plan
                p.note = "enum read as its integer values"
                return p
            }
        case H5T_COMPOUND:
            return complexPlan(type, bigEndian: bigEndian)
        case H5T_STRING: return .failure(.init("string datatype"))
        case H5T_REFERENCE: return .failure(.init("reference datatype"))
        case H5T_OPAQUE: return .failure(.init("opaque datatype"))
        case H5T_VLEN: return .failure(.init("variable-length datatype"))
        case H5T_ARRAY: return .failure(.init("array datatype"))
        case H5T_BITFIELD: return .failure(.init("bitfield datatype"))
        case H5T_TIME: return .failure(.init("time datatype"))
        default: return .failure(.init("unknown datatype class"))
        }
    }

    struct SkipReason: Error, Equatable {
        let text: String
        init(_ text: String) { self.text = text }
    }

    /// The little-endian file/memory type tvtool uses for `dtype` when converting or writing.
    /// Returned handles are fresh copies the caller owns. nil for dtypes HDF5 cannot hold.
    static func standardType(for dtype: DType) -> HDF5Handle? {
        switch dtype {
        case .u8, .f8e5m2, .f8e4m3, .f8e8m0, .f8e4m3fnuz, .f8e5m2fnuz: return copy(tv_std_u8le())
        case .i8: return copy(tv_std_i8le())
        case .i16: return copy(tv_std_i16le())
        case .u16: return copy(tv_std_u16le())
        case .i32: return copy(tv_std_i32le())
        case .u32: return copy(tv_std_u32le())
        case .i64: return copy(tv_std_i64le())
        case .u64: return copy(tv_std_u64le())
        case .f32: return copy(tv_ieee_f32le())
        case .f64: return copy(tv_ieee_f64le())
        // h5py's float16: an IEEE float of 2 bytes, fields (15,10,5,0,10), bias 15.
        case .f16: return customFloat(fields: (15, 10, 5, 0, 10), bias: 15)
        // bfloat16 as HDF5 2.0 defines it: fields (15,7,8,0,7), bias 127 (h5py reads it as float32).
        case .bf16: return customFloat(fields: (15, 7, 8, 0, 7), bias: 127)
        case .bool: return boolEnum()
        case .c64: return complex64()
        case .f4, .f6e2m3, .f6e3m2: return nil
        }
    }

    /// Dtypes written as uint8 plus a `dtype` attribute naming them (h5py has no float8 types).
    static func needsDTypeTag(_ dtype: DType) -> Bool {
        switch dtype {
        case .f8e5m2, .f8e4m3, .f8e8m0, .f8e4m3fnuz, .f8e5m2fnuz: return true
        default: return false
        }
    }

    // MARK: - Recognising types

    /// The dtype a `dtype` attribute names: tvtool/safetensors names or Keras/ml_dtypes names.
    static func taggedDType(_ tag: String) -> DType? {
        switch tag {
        case "bfloat16": return .bf16
        case "float8_e4m3fn": return .f8e4m3
        case "float8_e5m2": return .f8e5m2
        case "float8_e4m3fnuz": return .f8e4m3fnuz
        case "float8_e5m2fnuz": return .f8e5m2fnuz
        case "float8_e8m0fnu": return .f8e8m0
        default:
            guard let d = DType(rawValue: tag), d == .bf16 || needsDTypeTag(d) else { return nil }
            return d
        }
    }

    private static func integerPlan(_ type: hid_t, size: Int, bigEndian: Bool) -> Result<HDF5ReadPlan, SkipReason> {
        let signed = H5Tget_sign(type) == H5T_SGN_2
        let dtype: DType
        switch (size, signed) {
        case (1, true): dtype = .i8
        case (1, false): dtype = .u8
        case (2, true): dtype = .i16
        case (2, false): dtype = .u16
        case (4, true): dtype = .i32
        case (4, false): dtype = .u32
        case (8, true): dtype = .i64
        case (8, false): dtype = .u64
        default: return .failure(.init("\(size)-byte integer datatype"))
        }
        if Int(H5Tget_precision(type)) == size * 8 && H5Tget_offset(type) == 0 {
            return .success(HDF5ReadPlan(dtype: dtype, memory: .raw, swapUnit: bigEndian && size > 1 ? size : 0))
        }
        return .success(HDF5ReadPlan(dtype: dtype, memory: .converted, note: "integer with \(H5Tget_precision(type))-bit precision converted by libhdf5"))
    }

    private static func floatPlan(_ type: hid_t, size: Int, bigEndian: Bool) -> Result<HDF5ReadPlan, SkipReason> {
        var spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0
        guard H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) >= 0 else {
            return .failure(.init("float datatype with unreadable fields"))
        }
        let layout = [spos, epos, esize, mpos, msize]
        let bias = Int(H5Tget_ebias(type))
        let standard = H5Tget_offset(type) == 0 && H5Tget_norm(type) == H5T_NORM_IMPLIED
        let swap = bigEndian ? size : 0
        if standard {
            switch (size, layout, bias) {
            case (2, [15, 10, 5, 0, 10], 15): return .success(HDF5ReadPlan(dtype: .f16, memory: .raw, swapUnit: swap))
            case (2, [15, 7, 8, 0, 7], 127): return .success(HDF5ReadPlan(dtype: .bf16, memory: .raw, swapUnit: swap))
            case (4, [31, 23, 8, 0, 23], 127): return .success(HDF5ReadPlan(dtype: .f32, memory: .raw, swapUnit: swap))
            case (8, [63, 52, 11, 0, 52], 1023): return .success(HDF5ReadPlan(dtype: .f64, memory: .raw, swapUnit: swap))
            default: break
            }
        }
        // Anything else (long double, VAX order, unusual fields): libhdf5 converts to F32 when
        // the value fits, else F64.
        let target: DType = (esize <= 8 && msize <= 23) ? .f32 : .f64
        return .success(HDF5ReadPlan(dtype: target, memory: .converted,
                                     note: "\(size)-byte float (fields \(layout), bias \(bias)) converted to \(target.rawValue) by libhdf5"))
    }

    /// h5py's bool: an enum with exactly the members FALSE = 0 and TRUE = 1 (any case).
    static func isBoolEnum(_ type: hid_t) -> Bool {
        guard H5Tget_nmembers(type) == 2, let base = HDF5Handle(H5Tget_super(type), .datatype),
              H5Tget_class(base.id) == H5T_INTEGER else { return false }
        var found: [String: Int64] = [:]
        for i in 0..<UInt32(2) {
            guard let cname = H5Tget_member_name(type, i) else { return false }
            let name = String(cString: cname).uppercased()
            H5free_memory(cname)
            var value: Int64 = 0
            // Read the member value converted to a native int64 (the base may be any width/order).
            var raw = [UInt8](repeating: 0, count: max(8, Int(H5Tget_size(type))))
            guard H5Tget_member_value(type, i, &raw) >= 0 else { return false }
            guard H5Tconvert(base.id, tv_native_int64(), 1, &raw, nil, HDF5Library.defaultPlist) >= 0 else { return false }
            value = raw.withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }
            found[name] = value
        }
        return found == ["FALSE": 0, "TRUE": 1]
    }

    /// h5py's complex numbers: a compound of two float members named "r" and "i". Members are
    /// matched by name, never by position: {r at 0, i at 4} in the compound's byte order is read
    /// as stored; any other arrangement of float32 members ({i, r}, padding, mixed order) is
    /// converted by libhdf5, which also matches compound members by name.
    private static func complexPlan(_ type: hid_t, bigEndian: Bool) -> Result<HDF5ReadPlan, SkipReason> {
        guard H5Tget_nmembers(type) == 2 else { return .failure(.init("compound datatype")) }
        var members: [String: (offset: Int, bytes: Int, plain: Bool)] = [:]
        for i in UInt32(0)..<2 {
            guard let cname = H5Tget_member_name(type, i) else { return .failure(.init("compound datatype")) }
            let name = String(cString: cname)
            H5free_memory(cname)
            guard H5Tget_member_class(type, i) == H5T_FLOAT,
                  let member = HDF5Handle(H5Tget_member_type(type, i), .datatype) else { return .failure(.init("compound datatype")) }
            let bytes = Int(H5Tget_size(member.id))
            let plain: Bool
            if case .success(let p) = floatPlan(member.id, size: bytes, bigEndian: false), p.dtype == .f32, p.memory == .raw {
                plain = H5Tget_order(member.id) == H5Tget_order(type)
            } else {
                plain = false
            }
            members[name] = (Int(H5Tget_member_offset(type, i)), bytes, plain)
        }
        guard let r = members["r"], let i = members["i"] else { return .failure(.init("compound datatype")) }
        guard r.bytes == 4 && i.bytes == 4 else {
            return .failure(.init(r.bytes == 8 && i.bytes == 8 ? "complex128 (tvtool's complex dtype is C64)" : "complex compound with \(r.bytes)- and \(i.bytes)-byte parts"))
        }
        if H5Tget_size(type) == 8, r.offset == 0, i.offset == 4, r.plain, i.plain {
            return .success(HDF5ReadPlan(dtype: .c64, memory: .raw, swapUnit: bigEndian ? 4 : 0))
        }
        return .success(HDF5ReadPlan(dtype: .c64, memory: .converted, note: "complex members rearranged by libhdf5 (matched by name)"))
    }

    // MARK: - Building types

    private static func copy(_ predefined: hid_t) -> HDF5Handle? { HDF5Handle(H5Tcopy(predefined), .datatype) }

    /// A 2-byte little-endian IEEE-style float, built the way h5py builds float16: copy the
    /// 32-bit type, set the fields first (so they fit), then shrink to 2 bytes and set the bias.
    private static func customFloat(fields f: (Int, Int, Int, Int, Int), bias: Int) -> HDF5Handle? {
        guard let t = copy(tv_ieee_f32le()),
              H5Tset_fields(t.id, f.0, f.1, f.2, f.3, f.4) >= 0,
              H5Tset_size(t.id, 2) >= 0,
              H5Tset_ebias(t.id, bias) >= 0 else { return nil }
        return t
    }

    /// h5py's bool type: an int8 enum with FALSE = 0, TRUE = 1.
    private static func boolEnum() -> HDF5Handle? {
        guard let t = HDF5Handle(H5Tenum_create(tv_native_int8()), .datatype) else { return nil }
        var f: Int8 = 0, tr: Int8 = 1
        guard H5Tenum_insert(t.id, "FALSE", &f) >= 0, H5Tenum_insert(t.id, "TRUE", &tr) >= 0 else { return nil }
        return t
    }

    /// h5py's complex64: compound {r: f32le at 0, i: f32le at 4}.
    private static func complex64() -> HDF5Handle? {
        guard let t = HDF5Handle(H5Tcreate(H5T_COMPOUND, 8), .datatype),
              H5Tinsert(t.id, "r", 0, tv_ieee_f32le()) >= 0,
              H5Tinsert(t.id, "i", 4, tv_ieee_f32le()) >= 0 else { return nil }
        return t
    }
}

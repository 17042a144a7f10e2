/// Element types of checkpoint tensors, named as in the safetensors header (case-sensitive).
///
/// Every dtype knows its bit width, so a reader can validate byte ranges even for types it cannot
/// do arithmetic on (F8, F6, F4, C64). Arithmetic is supported on F64, F32, F16 and BF16 only.
public enum DType: String, Sendable, CaseIterable, Codable, Hashable {
    case bool = "BOOL"
    case u8 = "U8", i8 = "I8"
    case f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3", f8e8m0 = "F8_E8M0"
    case f8e4m3fnuz = "F8_E4M3FNUZ", f8e5m2fnuz = "F8_E5M2FNUZ"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32"
    case f64 = "F64", i64 = "I64", u64 = "U64", c64 = "C64"
    case f4 = "F4", f6e2m3 = "F6_E2M3", f6e3m2 = "F6_E3M2"

    /// Bits per element.
    public var bitWidth: Int {
        switch self {
        case .f4: return 4
        case .f6e2m3, .f6e3m2: return 6
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .f8e8m0, .f8e4m3fnuz, .f8e5m2fnuz: return 8
        case .i16, .u16, .f16, .bf16: return 16
        case .i32, .u32, .f32: return 32
        case .f64, .i64, .u64, .c64: return 64
        }
    }

    /// True for the floating-point types tvtool computes on (decoded to F32/F64).
    public var supportsArithmetic: Bool {
        switch self {
        case .f16, .bf16, .f32, .f64: return true
        default: return false
        }
    }

    /// True for every real or complex floating-point type, including the ones tvtool only carries.
    public var isFloatingPoint: Bool {
        switch self {
        case .f16, .bf16, .f32, .f64, .c64, .f8e5m2, .f8e4m3, .f8e8m0, .f8e4m3fnuz, .f8e5m2fnuz,
             .f4, .f6e2m3, .f6e3m2:
            return true
        default: return false
        }
    }

    /// Byte alignment used to order tensors in written safetensors files (largest first).
    public var alignment: Int { max(1, bitWidth / 8) }

    /// Bytes for `elements` values, or nil when sub-byte types do not fill whole bytes.
    public func byteCount(elements: Int) -> Int? {
        let (bits, overflow) = elements.multipliedReportingOverflow(by: bitWidth)
        guard !overflow, bits % 8 == 0 else { return nil }
        return bits / 8
    }

    /// Short lowercase names accepted on the command line (`--dtype f16`).
    public init?(userName: String) {
        switch userName.lowercased() {
        case "f32", "float32", "float": self = .f32
        case "f16", "float16", "half", "fp16": self = .f16
        case "bf16", "bfloat16": self = .bf16
        case "f64", "float64", "double": self = .f64
        default:
            guard let d = DType(rawValue: userName.uppercased()) else { return nil }
            self = d
        }
    }
}

import CKernels

/// Bulk conversion between stored bytes (little-endian F16/BF16/F32/F64) and Float/Double arrays:
/// the one bulk converter (storage, convert and the engine's chunk loops all use it).
/// Callers guarantee the byte buffer holds exactly `dst.count` (or `src.count`) values of `dtype`.
///
/// F16 uses the CPU's conversion instructions when it has them (x86-64 F16C, detected once), else
/// the software loops below (`HalfFloat` over a buffer; they vectorise). The two paths
/// differ only in NaN payloads (both give a NaN).
public enum ElementConversion {
    /// True when F16 conversion runs in hardware.
    public static let halfHardware: Bool = tv_half_hw_available() != 0

    /// Decodes `src` (raw bytes of `dtype`) into `dst`.
    public static func decode(_ src: UnsafeRawBufferPointer, from dtype: DType, into dst: UnsafeMutableBufferPointer<Float>) {
        let n = dst.count
        guard n > 0, let s = src.baseAddress, let d = dst.baseAddress else { return }
        switch dtype {
        case .f32:
            UnsafeMutableRawPointer(d).copyMemory(from: s, byteCount: n * 4)
        case .f16:
            let p = s.assumingMemoryBound(to: UInt16.self)
            if halfHardware { tv_half_hw_decode(p, d, n) } else { decodeF16Software(p, d, count: n) }
        case .bf16:
            let p = s.assumingMemoryBound(to: UInt16.self)
            for i in 0..<n { d[i] = HalfFloat.bf16ToF32(p[i]) }
        case .f64:
            for i in 0..<n { d[i] = Float(s.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
        default:
            preconditionFailure("decode of \(dtype.rawValue) to Float is not supported")
        }
    }

    /// Encodes `src` as `dtype` into `dst` (which must hold exactly the encoded bytes).
    public static func encode(_ src: UnsafeBufferPointer<Float>, as dtype: DType, into dst: UnsafeMutableRawBufferPointer) {
        let n = src.count
        guard n > 0, let s = src.baseAddress, let d = dst.baseAddress else { return }
        switch dtype {
        case .f32:
            d.copyMemory(from: s, byteCount: n * 4)
        case .f16:
            let p = d.assumingMemoryBound(to: UInt16.self)
            if halfHardware { tv_half_hw_encode(s, p, n) } else { encodeF16Software(s, p, count: n) }
        case .bf16:
            let p = d.assumingMemoryBound(to: UInt16.self)
            for i in 0..<n { p[i] = HalfFloat.f32ToBF16(s[i]) }
        case .f64:
            for i in 0..<n { d.storeBytes(of: Double(s[i]), toByteOffset: i * 8, as: Double.self) }
        default:
            preconditionFailure("encode of Float as \(dtype.rawValue) is not supported")
        }
    }

    /// Software F16 -> F32 (`HalfFloat.f16ToF32` over a buffer; the loop vectorises).
    @inline(__always)
    static func decodeF16Software(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dst[i] = HalfFloat.f16ToF32(src[i]) }
    }

    /// Software F32 -> F16 (`HalfFloat.f32ToF16` over a buffer).
    @inline(__always)
    static func encodeF16Software(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<count { dst[i] = HalfFloat.f32ToF16(src[i]) }
    }
}

/// Bulk conversion between stored bytes (little-endian F16/BF16/F32/F64) and Float/Double arrays.
/// Callers guarantee the byte buffer holds exactly `dst.count` (or `src.count`) values of `dtype`.
public enum ElementConversion {
    /// Decodes `src` (raw bytes of `dtype`) into `dst`.
    public static func decode(_ src: UnsafeRawBufferPointer, from dtype: DType, into dst: UnsafeMutableBufferPointer<Float>) {
        let n = dst.count
        guard n > 0, let s = src.baseAddress, let d = dst.baseAddress else { return }
        switch dtype {
        case .f32:
            UnsafeMutableRawPointer(d).copyMemory(from: s, byteCount: n * 4)
        case .f16:
            let p = s.assumingMemoryBound(to: UInt16.self)
            for i in 0..<n { d[i] = HalfFloat.f16ToF32(p[i]) }
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
            for i in 0..<n { p[i] = HalfFloat.f32ToF16(s[i]) }
        case .bf16:
            let p = d.assumingMemoryBound(to: UInt16.self)
            for i in 0..<n { p[i] = HalfFloat.f32ToBF16(s[i]) }
        case .f64:
            for i in 0..<n { d.storeBytes(of: Double(s[i]), toByteOffset: i * 8, as: Double.self) }
        default:
            preconditionFailure("encode of Float as \(dtype.rawValue) is not supported")
        }
    }
}

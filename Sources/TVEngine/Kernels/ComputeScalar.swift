import TVStorage

/// The floating-point types the engine computes in: Float (default) or Double (`--compute-dtype f64`).
///
/// Chunk decode/encode go through `ElementConversion` (bit-exact F16/BF16 codecs); Double routes
/// F16/BF16/F32 through a Float staging chunk, which is exact for decoding (every F16/BF16/F32
/// value is a Float) and still rounds a Double only once to F16/BF16 (round to odd into Float).
public protocol ComputeScalar: BinaryFloatingPoint, Sendable {
    /// Decodes `count` values of `dtype` starting at element `offset` of `src` into `dst`.
    /// `staging` holds at least `count` Floats (used by Double only).
    static func decode(_ src: UnsafeRawPointer, dtype: DType, offset: Int, count: Int,
                       into dst: UnsafeMutablePointer<Self>, staging: UnsafeMutablePointer<Float>)
    /// Encodes `count` values as `dtype` at element `offset` of `dst`.
    static func encode(_ src: UnsafePointer<Self>, count: Int, as dtype: DType, into dst: UnsafeMutableRawPointer,
                       offset: Int, staging: UnsafeMutablePointer<Float>)
    var asDouble: Double { get }
}

extension Float: ComputeScalar {
    @inline(__always)
    public static func decode(_ src: UnsafeRawPointer, dtype: DType, offset: Int, count: Int,
                              into dst: UnsafeMutablePointer<Float>, staging: UnsafeMutablePointer<Float>) {
        let width = dtype.bitWidth / 8
        ElementConversion.decode(UnsafeRawBufferPointer(start: src + offset * width, count: count * width),
                                 from: dtype, into: UnsafeMutableBufferPointer(start: dst, count: count))
    }

    @inline(__always)
    public static func encode(_ src: UnsafePointer<Float>, count: Int, as dtype: DType, into dst: UnsafeMutableRawPointer,
                              offset: Int, staging: UnsafeMutablePointer<Float>) {
        let width = dtype.bitWidth / 8
        ElementConversion.encode(UnsafeBufferPointer(start: src, count: count), as: dtype,
                                 into: UnsafeMutableRawBufferPointer(start: dst + offset * width, count: count * width))
    }

    public var asDouble: Double { Double(self) }
}

extension Double: ComputeScalar {
    public static func decode(_ src: UnsafeRawPointer, dtype: DType, offset: Int, count: Int,
                              into dst: UnsafeMutablePointer<Double>, staging: UnsafeMutablePointer<Float>) {
        if dtype == .f64 {
            UnsafeMutableRawPointer(dst).copyMemory(from: src + offset * 8, byteCount: count * 8)
            return
        }
        Float.decode(src, dtype: dtype, offset: offset, count: count, into: staging, staging: staging)
        for i in 0..<count { dst[i] = Double(staging[i]) }
    }

    public static func encode(_ src: UnsafePointer<Double>, count: Int, as dtype: DType, into dst: UnsafeMutableRawPointer,
                              offset: Int, staging: UnsafeMutablePointer<Float>) {
        if dtype == .f64 {
            (dst + offset * 8).copyMemory(from: src, byteCount: count * 8)
            return
        }
        // F16/BF16 round once: rounding to odd on the way to Float keeps the information the final
        // round-to-nearest-even needs (Float has more than two extra bits), so no double rounding.
        if dtype == .f32 {
            for i in 0..<count { staging[i] = Float(src[i]) }
        } else {
            for i in 0..<count { staging[i] = Self.floatRoundedToOdd(src[i]) }
        }
        Float.encode(staging, count: count, as: dtype, into: dst, offset: offset, staging: staging)
    }

    /// `d` rounded to Float toward zero, with the last bit set when that was inexact (round to odd).
    @inline(__always)
    static func floatRoundedToOdd(_ d: Double) -> Float {
        let f = Float(d)
        guard f.isFinite, Double(f) != d else { return f }  // exact, overflow, NaN
        var bits = f.bitPattern
        if Swift.abs(Double(f)) > Swift.abs(d) { bits -= 1 }  // one ULP toward zero (same sign)
        return Float(bitPattern: bits | 1)
    }

    public var asDouble: Double { self }
}

/// Which scalar type a computation runs in.
public enum ComputePrecision: String, Sendable, Codable, CaseIterable {
    case f32, f64

    public init?(userName: String) {
        switch userName.lowercased() {
        case "f32", "float32", "float": self = .f32
        case "f64", "float64", "double": self = .f64
        default: return nil
        }
    }
}

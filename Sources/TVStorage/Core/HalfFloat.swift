/// Bit-exact F16/BF16 <-> F32 conversions written as integer operations, so loops over them
/// auto-vectorise (Float(Float16(bitPattern:)) calls a compiler-rt routine ~8x slower here).
/// Narrowing rounds to nearest, ties to even; NaNs stay NaN (quietened), infinities stay infinite.
public enum HalfFloat {
    /// IEEE binary16 bits -> Float. Handles zeros, subnormals, infinities and NaN payloads.
    @inline(__always)
    public static func f16ToF32(_ h: UInt16) -> Float {
        let h32 = UInt32(h)
        let sign = (h32 & 0x8000) << 16
        let exp = (h32 >> 10) & 0x1f
        let man = h32 & 0x3ff
        // Normal numbers: rebias the exponent (15 -> 127) and widen the mantissa.
        let normal = ((exp &+ 112) << 23) | (man << 13)
        // Inf/NaN: all-ones exponent, mantissa kept (payload preserved).
        let infnan = 0x7f80_0000 | (man << 13)
        // Subnormals: man * 2^-24 computed exactly in float arithmetic.
        let sub = (Float(man) * 5.9604644775390625e-08).bitPattern
        let mag: UInt32 = exp == 0 ? sub : (exp == 0x1f ? infnan : normal)
        return Float(bitPattern: sign | mag)
    }

    /// Float -> IEEE binary16 bits, round to nearest even.
    @inline(__always)
    public static func f32ToF16(_ f: Float) -> UInt16 {
        let x = f.bitPattern
        let sign = UInt16(truncatingIfNeeded: (x >> 16) & 0x8000)
        let ax = x & 0x7fff_ffff
        if ax >= 0x7f80_0000 {  // Inf or NaN
            return sign | (ax > 0x7f80_0000 ? 0x7e00 : 0x7c00)
        }
        if ax >= 0x4780_0000 {  // >= 65536: overflows to infinity
            return sign | 0x7c00
        }
        if ax < 0x3880_0000 {  // < 2^-14: subnormal half (or zero). Add 0.5 to shift the mantissa
            // into the low bits; float addition rounds to nearest even for us.
            let r = Float(bitPattern: ax) + 0.5
            return sign | UInt16(truncatingIfNeeded: r.bitPattern &- 0x3f00_0000)
        }
        // Normal: rebias, then round the 13 dropped mantissa bits to nearest even.
        let odd = (ax >> 13) & 1
        let rounded = ax &+ 0xc800_0fff &+ odd  // (15-127)<<23 rebias + rounding bias
        return sign | UInt16(truncatingIfNeeded: rounded >> 13)
    }

    /// bfloat16 bits -> Float (the top half of a binary32).
    @inline(__always)
    public static func bf16ToF32(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// Float -> bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN.
    @inline(__always)
    public static func f32ToBF16(_ f: Float) -> UInt16 {
        let x = f.bitPattern
        if (x & 0x7fff_ffff) > 0x7f80_0000 { return UInt16(truncatingIfNeeded: (x >> 16) | 0x40) }
        let lsb = (x >> 16) & 1
        return UInt16(truncatingIfNeeded: (x &+ 0x7fff &+ lsb) >> 16)
    }
}

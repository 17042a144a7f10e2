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

    /// Float -> IEEE binary16 bits, round to nearest even. Branch-free (all three candidates are
    /// computed, then selected) so bulk loops vectorise: ~3x faster than early returns.
    @inline(__always)
    public static func f32ToF16(_ f: Float) -> UInt16 {
        let x = f.bitPattern
        let sign = (x >> 16) & 0x8000
        let ax = x & 0x7fff_ffff
        // >= 65520 rounds to infinity; NaN becomes the canonical quiet NaN.
        let big: UInt32 = ax > 0x7f80_0000 ? 0x7e00 : 0x7c00
        // < 2^-14: subnormal half (or zero). Adding 0.5 shifts the mantissa into the low bits and
        // the float addition rounds to nearest even for us.
        let sub = (Float(bitPattern: ax) + 0.5).bitPattern &- 0x3f00_0000
        // Normal: rebias (15-127)<<23 and round the 13 dropped mantissa bits to nearest even.
        let normal = (ax &+ 0xc800_0fff &+ ((ax >> 13) & 1)) >> 13
        let mag = ax >= 0x4780_0000 ? big : (ax < 0x3880_0000 ? sub : normal)
        return UInt16(truncatingIfNeeded: sign | mag)
    }

    /// bfloat16 bits -> Float (the top half of a binary32).
    @inline(__always)
    public static func bf16ToF32(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// Float -> bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN.
    @inline(__always)
    public static func f32ToBF16(_ f: Float) -> UInt16 {
        let x = f.bitPattern
        let quietNaN = (x >> 16) | 0x40
        let rounded = (x &+ 0x7fff &+ ((x >> 16) & 1)) >> 16
        return UInt16(truncatingIfNeeded: (x & 0x7fff_ffff) > 0x7f80_0000 ? quietNaN : rounded)
    }
}

import CHalfConvert

/// F16 <-> F32 loops for the engine's hot path, written without data-dependent branches so the
/// compiler vectorises them on the baseline x86-64/arm64 target (no F16C needed). Bit-identical to
/// `HalfFloat.f16ToF32` / `f32ToF16` (checked on all 65,536 halves and on edge floats by the tests);
/// about twice as fast on SSE2 because the common normal-number case is a shift and an add.
enum HalfCodec {
    /// Hardware conversion (x86-64 F16C), detected once; the software loops below otherwise.
    static let hardware: Bool = tv_half_hw_available() != 0

    /// F16 -> F32 for `count` values, hardware when available.
    @inline(__always)
    static func decodeFast(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        if hardware { tv_half_hw_decode(src, dst, count) } else { decode(src, dst, count: count) }
    }

    /// F32 -> F16 (round to nearest even) for `count` values, hardware when available.
    @inline(__always)
    static func encodeFast(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
        if hardware { tv_half_hw_encode(src, dst, count) } else { encode(src, dst, count: count) }
    }

    /// half bits -> float: normal numbers rebias the exponent (+112 << 23); Inf/NaN get a second
    /// +112 so the exponent saturates to 255 (payload kept); zero/subnormals are computed exactly as
    /// float(bits + 1 << 23) - 2^-14 (no subnormal float arithmetic involved).
    @inline(__always)
    static func decode(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let h = UInt32(src[i])
            let shifted = (h & 0x7fff) << 13
            let exp = shifted & 0x0f80_0000
            let normal = shifted &+ 0x3800_0000
            let infnan = normal &+ 0x3800_0000
            let sub = (Float(bitPattern: normal &+ 0x0080_0000) - 6.103515625e-05).bitPattern
            let mag = exp == 0x0f80_0000 ? infnan : (exp == 0 ? sub : normal)
            dst[i] = Float(bitPattern: mag | ((h & 0x8000) << 16))
        }
    }

    /// float -> half bits, round to nearest even; NaN -> quiet NaN 0x7e00, overflow -> Inf.
    @inline(__always)
    static func encode(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<count {
            let x = src[i].bitPattern
            let sign = (x >> 16) & 0x8000
            let ax = x & 0x7fff_ffff
            let special: UInt32 = ax > 0x7f80_0000 ? 0x7e00 : 0x7c00
            let sub = (Float(bitPattern: ax) + 0.5).bitPattern &- 0x3f00_0000
            let normal = (ax &+ 0xc800_0fff &+ ((ax >> 13) & 1)) >> 13
            let mag = ax >= 0x4780_0000 ? special : (ax < 0x3880_0000 ? sub : normal)
            dst[i] = UInt16(truncatingIfNeeded: sign | mag)
        }
    }
}

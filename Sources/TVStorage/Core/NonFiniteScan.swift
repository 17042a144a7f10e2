/// Finds inf/NaN in stored float values by their bits (exponent all ones), without decoding:
/// cheap enough to run on every output block while it is still in cache.
public enum NonFiniteScan {
    /// Index of the first non-finite value among `count` values of `dtype` at `p`, or nil (also
    /// for dtypes without inf/NaN).
    public static func firstIndex(_ p: UnsafeRawPointer, count: Int, dtype: DType) -> Int? {
        switch dtype {
        case .f16: return first(p, count, UInt16.self, mask: 0x7c00)
        case .bf16: return first(p, count, UInt16.self, mask: 0x7f80)
        case .f32: return first(p, count, UInt32.self, mask: 0x7f80_0000)
        case .f64: return first(p, count, UInt64.self, mask: 0x7ff0_0000_0000_0000)
        default: return nil
        }
    }

    private static func first<U: FixedWidthInteger & UnsignedInteger>(_ raw: UnsafeRawPointer, _ count: Int, _: U.Type, mask: U) -> Int? {
        let p = raw.assumingMemoryBound(to: U.self)
        // Branch-free OR-reduction per stretch (vectorises); locate the element only on a hit.
        var i = 0
        while i < count {
            let end = min(i + 1024, count)
            var any: U = 0
            for j in i..<end { any |= ((p[j] & mask) == mask) ? 1 : 0 }
            if any != 0 { return (i..<end).first { (p[$0] & mask) == mask } }
            i = end
        }
        return nil
    }
}

/// Counter-based random numbers for reproducible DARE masks: the draw for (seed, tensor, model,
/// element) is a pure function of those four values, so masks do not depend on chunking, thread
/// count or the order tensors are processed in.
public enum CounterRandom {
    /// SplitMix64 finaliser: a bijective 64-bit mix with good avalanche.
    @inline(__always)
    public static func mix(_ z0: UInt64) -> UInt64 {
        var z = z0 &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A per-(seed, tensor, model) stream key. Tensor names hash with FNV-1a (stable across runs,
    /// unlike Swift's randomly seeded Hasher).
    public static func streamKey(seed: UInt64, tensor: String, model: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in tensor.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return mix(mix(seed ^ h) ^ UInt64(model))
    }

    /// Uniform in [0, 1) with 24 random bits, for element `index` of a stream.
    @inline(__always)
    public static func uniform(key: UInt64, index: Int) -> Float {
        Float(mix(key ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03)) >> 40) * 0x1p-24
    }
}

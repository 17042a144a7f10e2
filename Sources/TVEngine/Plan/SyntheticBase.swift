import TVStorage

/// The base operand of a tensor the base checkpoint lacks (`--missing-in-base identity|zero`):
/// an ordinary tensor handed to the combine step like a loaded one, so every merge method and
/// kernel treats it as a base (task vector W − I or W − 0) without knowing it was synthesized.
/// It lives only while its tensor is merged (one tensor's worth of memory, as any operand).
enum SyntheticBase {
    /// C for a [C,C] or [C,C,1,1] weight (a linear or 1×1-conv projection), else nil.
    static func identitySide(_ shape: [Int]) -> Int? {
        if shape.count == 2, shape[0] == shape[1] { return shape[0] }
        if shape.count == 4, shape[0] == shape[1], shape[2] == 1, shape[3] == 1 { return shape[0] }
        return nil
    }

    /// The identity or zero tensor with `like`'s dtype and shape.
    static func tensor(_ policy: MissingInBasePolicy, like: Tensor) throws -> Tensor {
        let bytes = like.byteCount
        let elementBytes = like.dtype.bitWidth / 8
        let one = try Tensor.fromFloats([1], shape: [1], dtype: like.dtype)
        let side = policy == .identity ? identitySide(like.shape) : nil
        let storage = ByteStorage.allocate(count: bytes) { dst in
            dst.initializeMemory(as: UInt8.self, repeating: 0)
            guard let side else { return }
            one.withUnsafeBytes { src in
                for i in 0..<side {
                    (dst.baseAddress! + (i * side + i) * elementBytes).copyMemory(from: src.baseAddress!, byteCount: elementBytes)
                }
            }
        }
        return try Tensor(dtype: like.dtype, shape: like.shape, storage: storage)
    }
}

import TVStorage

/// Scratch buffers for computing a candidate tensor by tensor. Reused across the tensors of one
/// candidate so a model-sized write allocates (and page-faults) its buffers once, not per tensor.
/// Not thread-safe: one workspace per candidate being built.
final class CandidateWorkspace: @unchecked Sendable {
    private var floats: UnsafeMutablePointer<Float>?
    private var floatCapacity = 0
    private var bytes: UnsafeMutableRawPointer?
    private var byteCapacity = 0

    deinit {
        floats?.deallocate()
        bytes?.deallocate()
    }

    /// A float buffer of `n` values (the centre of random directions).
    func center(_ n: Int) -> UnsafeMutableBufferPointer<Float> {
        if n > floatCapacity {
            floats?.deallocate()
            floats = .allocate(capacity: max(n, 1))
            floatCapacity = n
        }
        return UnsafeMutableBufferPointer(start: floats!, count: n)
    }

    /// Room for one output tensor of `count` bytes (valid until the next call).
    func output(_ count: Int) -> UnsafeMutableRawPointer {
        if count > byteCapacity || bytes == nil {
            bytes?.deallocate()
            bytes = .allocate(byteCount: max(count, 1), alignment: 64)
            byteCapacity = count
        }
        return bytes!
    }

    /// A tensor of `dtype` viewing the output buffer (valid until the next `output` call).
    func view(shape: [Int], dtype: DType) throws -> Tensor {
        let count = dtype.byteCount(elements: Shape.elementCount(shape) ?? 0) ?? 0
        precondition(count <= byteCapacity && bytes != nil, "output(_:) reserves the buffer first")
        return try Tensor(dtype: dtype, shape: shape, storage: ByteStorage(viewing: UnsafeRawPointer(bytes!), count: count, owner: self))
    }
}

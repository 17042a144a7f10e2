import TVStorage

/// Scratch buffers for computing a candidate tensor by tensor. Reused across the tensors of one
/// candidate so a model-sized write allocates (and page-faults) its buffers once, not per tensor.
/// Not thread-safe: one workspace per candidate being built.
final class CandidateWorkspace: @unchecked Sendable {
    private(set) var capacity = 0
    private var storage: UnsafeMutablePointer<Float>?
    private var bytes: UnsafeMutableRawPointer?
    private var byteCapacity = 0

    deinit {
        storage?.deallocate()
        bytes?.deallocate()
    }

    /// Four float buffers of `n` values: out, base, model, centre.
    func buffers(_ n: Int) -> (out: UnsafeMutableBufferPointer<Float>, base: UnsafeMutableBufferPointer<Float>,
                               model: UnsafeMutableBufferPointer<Float>, center: UnsafeMutableBufferPointer<Float>) {
        if n > capacity {
            storage?.deallocate()
            storage = .allocate(capacity: 4 * max(n, 1))
            capacity = n
        }
        let p = storage!
        return (UnsafeMutableBufferPointer(start: p, count: n), UnsafeMutableBufferPointer(start: p + capacity, count: n),
                UnsafeMutableBufferPointer(start: p + 2 * capacity, count: n), UnsafeMutableBufferPointer(start: p + 3 * capacity, count: n))
    }

    /// A tensor of `dtype` viewing `values` encoded into this workspace (valid until the next call).
    func view(_ values: UnsafeMutableBufferPointer<Float>, shape: [Int], dtype: DType) throws -> Tensor {
        let count = dtype.byteCount(elements: values.count)!
        if dtype == .f32 {
            return try Tensor(dtype: .f32, shape: shape,
                              storage: ByteStorage(viewing: UnsafeRawPointer(values.baseAddress!), count: count, owner: self))
        }
        if count > byteCapacity {
            bytes?.deallocate()
            bytes = .allocate(byteCount: max(count, 1), alignment: 64)
            byteCapacity = count
        }
        ElementConversion.encode(UnsafeBufferPointer(values), as: dtype, into: UnsafeMutableRawBufferPointer(start: bytes!, count: count))
        return try Tensor(dtype: dtype, shape: shape, storage: ByteStorage(viewing: UnsafeRawPointer(bytes!), count: count, owner: self))
    }
}

import TVStorage

/// A growable byte buffer reused for every output tensor, so a streaming pass touches fresh pages
/// only when a tensor is larger than all before it.
///
/// Invariant: a tensor handed out by `tensor(...)` views this buffer; it is reused for the next
/// tensor only if nobody kept that view (checked with `isKnownUniquelyReferenced`), otherwise a
/// new allocation is made, so a writer that retains tensors still sees correct data.
final class OutputBuffer {
    private final class Block {
        let pointer: UnsafeMutableRawPointer
        let capacity: Int
        init(capacity: Int) {
            self.capacity = max(capacity, 64)
            pointer = .allocate(byteCount: self.capacity, alignment: 64)
        }
        deinit { pointer.deallocate() }
    }

    private var block = Block(capacity: 1 << 20)

    /// Memory for `bytes` bytes, valid until the next call.
    func reserve(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > block.capacity || !isKnownUniquelyReferenced(&block) {
            block = Block(capacity: max(bytes, block.capacity))
        }
        return block.pointer
    }

    /// A tensor viewing the first `info.byteCount` bytes of the buffer.
    func tensor(_ info: TensorInfo) throws -> Tensor {
        let storage = ByteStorage(viewing: UnsafeRawPointer(block.pointer), count: info.byteCount, owner: block)
        return try Tensor(dtype: info.dtype, shape: info.shape, storage: storage)
    }
}

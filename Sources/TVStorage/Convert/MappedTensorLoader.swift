/// Loads tensors that are views into a mapped file into one reused buffer with pread
/// (`MappedFileReader`), rather than touching the mapping. Tensors that are not file views, or
/// whose bytes cannot be read that way, are returned unchanged.
final class MappedTensorLoader {
    private let buffer: ByteStorage
    private let files: MappedFileReader

    init(capacity: Int, files: MappedFileReader) {
        buffer = ByteStorage.allocate(count: capacity) { _ in }
        self.files = files
    }

    /// The tensor with its bytes in the loader's buffer (valid until the next call), or `tensor`
    /// itself when it is not a view into a mapped file.
    func load(_ tensor: Tensor) -> Tensor {
        let storage = tensor.storage
        guard storage.count <= buffer.count,
              files.read(storage, byteOffset: 0, count: storage.count, into: UnsafeMutableRawPointer(mutating: buffer.base))
        else { return tensor }
        let view = ByteStorage(viewing: buffer.base, count: storage.count, owner: buffer)
        return (try? Tensor(dtype: tensor.dtype, shape: tensor.shape, storage: view)) ?? tensor
    }
}

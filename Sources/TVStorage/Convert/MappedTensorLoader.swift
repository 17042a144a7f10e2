#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the bytes of tensors that are views into a mapped file with `pread` into one reused
/// buffer. For a single streaming pass this is cheaper than touching the mapping: a copy from the
/// page cache (as `cat` does) instead of a page fault per 64 KB and a TLB shootdown per release.
/// Tensors that are not file views, or whose file cannot be reopened, are returned unchanged.
final class MappedTensorLoader {
    private let buffer: ByteStorage
    private var descriptors: [ObjectIdentifier: Int32] = [:]

    init(capacity: Int) {
        buffer = ByteStorage.allocate(count: capacity) { _ in }
    }

    deinit { for fd in descriptors.values where fd >= 0 { close(fd) } }

    /// The tensor with its bytes in the loader's buffer (valid until the next call), or `tensor`
    /// itself when it is not a view into a mapped file.
    func load(_ tensor: Tensor) -> Tensor {
        let storage = tensor.storage
        guard let mapping = storage.mapping, storage.count > 0, storage.count <= buffer.count else { return tensor }
        let key = ObjectIdentifier(mapping)
        let fd = descriptors[key] ?? {
            let fd = open(mapping.path, O_RDONLY | O_CLOEXEC)
            descriptors[key] = fd
            return fd
        }()
        guard fd >= 0 else { return tensor }
        let fileOffset = storage.base - mapping.base
        let dst = UnsafeMutableRawPointer(mutating: buffer.base)
        var done = 0
        while done < storage.count {
            let r = pread(fd, dst + done, storage.count - done, off_t(fileOffset + done))
            if r < 0 && errno == EINTR { continue }
            // A short or failed read (file changed under us): fall back to the mapped view.
            guard r > 0 else { return tensor }
            done += r
        }
        let view = ByteStorage(viewing: buffer.base, count: storage.count, owner: buffer)
        return (try? Tensor(dtype: tensor.dtype, shape: tensor.shape, storage: view)) ?? tensor
    }
}

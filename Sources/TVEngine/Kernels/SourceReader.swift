import Foundation
import TVStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads blocks of tensor bytes for the chunk workers. A tensor that views a memory-mapped file is
/// read with pread(2) into the worker's small, cache-resident staging buffer instead of being
/// touched through the mapping: the kernel's bulk copy streams from the page cache much faster
/// than first-touch page faults plus cache-missing loads, and the mapping's pages never become
/// resident, so RSS stays at the output buffer plus scratch. Tensors in owned memory (or when the
/// file cannot be reopened) are read in place.
final class SourceReader: @unchecked Sendable {
    private let lock = NSLock()
    private var descriptors: [ObjectIdentifier: Int32] = [:]
    /// `TVTOOL_READ=mmap` reads through the mapping instead (for benchmarking the two paths).
    static let usePread = ProcessInfo.processInfo.environment["TVTOOL_READ"] != "mmap"

    deinit {
        for fd in descriptors.values where fd >= 0 { close(fd) }
    }

    /// A descriptor for the file behind `mapping` (opened once per run), or -1.
    private func descriptor(for mapping: MappedFile) -> Int32 {
        lock.lock(); defer { lock.unlock() }
        let key = ObjectIdentifier(mapping)
        if let fd = descriptors[key] { return fd }
        let fd = open(mapping.path, O_RDONLY | O_CLOEXEC)
        descriptors[key] = fd
        return fd
    }

    /// Pointer to `byteCount` bytes of `storage` starting at `byteOffset`: read into `staging` (which
    /// holds at least `byteCount` bytes) when the storage is file-backed, else the storage itself.
    func bytes(_ storage: ByteStorage, byteOffset: Int, byteCount: Int, staging: UnsafeMutableRawPointer) -> UnsafeRawPointer {
        let inPlace = storage.base + byteOffset
        guard Self.usePread, byteCount > 0, let mapping = storage.mapping else { return inPlace }
        let fd = descriptor(for: mapping)
        guard fd >= 0 else { return inPlace }
        var done = 0
        let fileOffset = (storage.base - mapping.base) + byteOffset
        while done < byteCount {
            let r = pread(fd, staging + done, byteCount - done, off_t(fileOffset + done))
            if r <= 0 {
                if r < 0 && errno == EINTR { continue }
                return inPlace  // the mapping still holds the same bytes
            }
            done += r
        }
        return UnsafeRawPointer(staging)
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the bytes behind storages that view a memory-mapped file with pread(2), one descriptor per
/// file (opened on first use, closed with the reader). For a single streaming pass a copy from the
/// page cache (as `cat` does) is cheaper than touching the mapping: no page fault per 64 KB, no TLB
/// shootdown when pages are released, and the mapping's pages never become resident. Shared by
/// the converter (whole tensors) and the engine's chunk workers (small blocks). Thread-safe.
public final class MappedFileReader: @unchecked Sendable {
    private let lock = NSLock()
    /// Keyed by the mapping's identity; the entry holds the mapping itself so that identity cannot
    /// be reused by a new mapping (and so get the old file's descriptor) while the entry exists.
    private var descriptors: [ObjectIdentifier: (mapping: MappedFile, fd: Int32)] = [:]

    public init() {}

    deinit { for entry in descriptors.values where entry.fd >= 0 { close(entry.fd) } }

    /// Copies `count` bytes starting `byteOffset` bytes into `storage` to `dst`. False (nothing to
    /// rely on in `dst`) when the storage is not a view into a mapped file, the file cannot be
    /// reopened, or a read comes up short (the file changed under us): read through the mapping
    /// instead, which still holds the bytes.
    public func read(_ storage: ByteStorage, byteOffset: Int, count: Int, into dst: UnsafeMutableRawPointer) -> Bool {
        guard count > 0, let mapping = storage.mapping else { return false }
        let fd = descriptor(for: mapping)
        guard fd >= 0 else { return false }
        let fileOffset = (storage.base - mapping.base) + byteOffset
        var done = 0
        while done < count {
            let r = pread(fd, dst + done, count - done, off_t(fileOffset + done))
            if r <= 0 {
                if r < 0 && errno == EINTR { continue }
                return false
            }
            done += r
        }
        return true
    }

    private func descriptor(for mapping: MappedFile) -> Int32 {
        lock.lock(); defer { lock.unlock() }
        let key = ObjectIdentifier(mapping)
        if let entry = descriptors[key] { return entry.fd }
        let fd = open(mapping.path, O_RDONLY | O_CLOEXEC)
        descriptors[key] = (mapping, fd)
        return fd
    }
}

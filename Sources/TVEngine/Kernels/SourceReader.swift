import Foundation
import TVStorage

/// Reads blocks of tensor bytes for the chunk workers. A tensor that views a memory-mapped file is
/// read with pread(2) into the worker's small, cache-resident staging buffer instead of being
/// touched through the mapping: the kernel's bulk copy streams from the page cache much faster
/// than first-touch page faults plus cache-missing loads, and the mapping's pages never become
/// resident, so RSS stays at the output buffer plus scratch. Tensors in owned memory (or when the
/// file cannot be reopened) are read in place.
final class SourceReader: @unchecked Sendable {
    private let files = MappedFileReader()
    /// `TVTOOL_READ=mmap` reads through the mapping instead (for benchmarking the two paths).
    static let usePread = ProcessInfo.processInfo.environment["TVTOOL_READ"] != "mmap"

    /// Pointer to `byteCount` bytes of `storage` starting at `byteOffset`: read into `staging` (which
    /// holds at least `byteCount` bytes) when the storage is file-backed, else the storage itself.
    func bytes(_ storage: ByteStorage, byteOffset: Int, byteCount: Int, staging: UnsafeMutableRawPointer) -> UnsafeRawPointer {
        guard Self.usePread, files.read(storage, byteOffset: byteOffset, count: byteCount, into: staging) else {
            return storage.base + byteOffset  // the mapping (or owned memory) holds the same bytes
        }
        return UnsafeRawPointer(staging)
    }
}

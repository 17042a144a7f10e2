#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory. Unmapped when the last reference goes.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeRawPointer
    public let count: Int

    /// Maps `path`. An empty file maps to a zero-length region (no mmap call).
    public init(path: String) throws(StorageError) {
        self.path = path
        let fd: Int32, size: Int
        switch RegularFile.openForReading(path) {
        case .opened(let f, let s): fd = f; size = s
        case .failed(let reason): throw StorageError.cannotOpen(path: path, reason: reason)
        }
        defer { close(fd) }
        if size == 0 {
            // A valid non-null pointer for the empty region; never dereferenced.
            self.base = UnsafeRawPointer(bitPattern: 0x1000)!
            self.count = 0
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
              p != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw StorageError.cannotOpen(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        self.base = UnsafeRawPointer(p)
        self.count = size
    }

    deinit {
        if count > 0 { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Drops the resident pages fully inside [start, start+count): file-backed and read-only, so
    /// they are re-read from the page cache if touched again. Keeps streaming passes' RSS bounded.
    public func releasePages(from start: UnsafeRawPointer, count n: Int) {
        guard n > 0, count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lo = (Int(bitPattern: start) + page - 1) / page * page
        let hi = (Int(bitPattern: start) + n) / page * page
        guard hi > lo else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: lo), hi - lo, MADV_DONTNEED)
    }
}

/// Opens a file read-only and checks that it is a regular file. Shared by `MappedFile` and the
/// HDF5 signature check, which report the failure reason in their own error types.
enum RegularFile {
    /// The caller closes `fd`.
    case opened(fd: Int32, size: Int)
    case failed(reason: String)

    static func openForReading(_ path: String) -> RegularFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failed(reason: String(cString: strerror(errno))) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            return .failed(reason: reason)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return .failed(reason: "not a regular file")
        }
        return .opened(fd: fd, size: Int(st.st_size))
    }
}

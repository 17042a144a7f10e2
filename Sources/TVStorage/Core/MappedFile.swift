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

/// Opens a file read-only and checks that it is a regular file. Shared by `MappedFile`, the
/// HDF5 signature check and every small text input (`readAll`), which report the failure reason
/// in their own error types.
public enum RegularFile {
    /// The caller closes `fd`.
    case opened(fd: Int32, size: Int)
    case failed(reason: String)

    /// Opens with O_NONBLOCK so that a named pipe (or a device) given as an input cannot block
    /// the open; fstat then refuses anything that is not a regular file before a read.
    public static func openForReading(_ path: String) -> RegularFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return .failed(reason: String(cString: strerror(errno))) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            return .failed(reason: reason)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return .failed(reason: (st.st_mode & S_IFMT) == S_IFDIR ? "is a folder, not a file" : "not a regular file")
        }
        // Regular files ignore O_NONBLOCK; clear it anyway so later reads behave as usual.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return .opened(fd: fd, size: Int(st.st_size))
    }

    /// The whole content of a small regular file (recipes, rules, index JSON, .npy, PNG), or
    /// the reason it cannot be read: not a regular file, or larger than `limit` bytes.
    public static func readAll(_ path: String, limit: Int = 1 << 30) -> Result<[UInt8], StorageError> {
        let fd: Int32, size: Int
        switch openForReading(path) {
        case .opened(let f, let s): fd = f; size = s
        case .failed(let reason): return .failure(.cannotOpen(path: path, reason: reason))
        }
        defer { close(fd) }
        guard size <= limit else {
            return .failure(.cannotOpen(path: path, reason: "\(size) bytes is more than the \(limit)-byte limit for this kind of file"))
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                return .failure(.cannotOpen(path: path, reason: n == 0 ? "file shrank while being read" : String(cString: strerror(errno))))
            }
            done += n
        }
        return .success(bytes)
    }

    /// `readAll` as UTF-8 text.
    public static func readText(_ path: String, limit: Int = 1 << 28) throws(StorageError) -> String {
        String(decoding: try readAll(path, limit: limit).get(), as: UTF8.self)
    }
}

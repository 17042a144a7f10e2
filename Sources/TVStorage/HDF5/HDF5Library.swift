import CHDF5
import Foundation

/// Process-wide access to libhdf5. The Debian build is the serial (non-thread-safe) library, so
/// every HDF5 call in tvtool runs inside `HDF5Library.locked`, one at a time. The lock is recursive
/// because handles close themselves (taking the lock) while a locked region is still running.
enum HDF5Library {
    private static let lock = NSRecursiveLock()

    /// Opens the library once and turns off its stderr error printing: tvtool reports its own
    /// one-line errors (built from `lastError()`).
    private static let initialised: Void = {
        _ = H5open()
        tv_h5_silence_errors()
    }()

    static func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = initialised
        // Debian's libhdf5 is built thread-safe: the error-printing switch is per thread, so the
        // one set at start-up does not cover writer threads. Set it on whichever thread is here.
        tv_h5_silence_errors()
        return try body()
    }

    /// The innermost message of libhdf5's error stack (then cleared), or `fallback` when empty.
    /// Call inside `locked` right after the failing call.
    static func lastError(or fallback: String) -> String {
        var buf = [CChar](repeating: 0, count: 512)
        tv_h5_last_error(&buf, buf.count)
        let msg = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return msg.isEmpty ? fallback : msg
    }

    static var defaultPlist: hid_t { tv_h5p_default() }
}

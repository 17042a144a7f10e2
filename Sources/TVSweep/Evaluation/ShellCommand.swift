#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TVStorage

/// Runs `/bin/sh -c command` in its own process group with stdout and stderr read through pipes
/// into bounded tail buffers (a command that prints without end costs neither memory nor disk),
/// and a timeout, checked while reading, after which the whole group (the shell and everything it
/// started) gets SIGTERM, then SIGKILL two seconds later.
public enum ShellCommand {
    public struct Result: Sendable {
        /// Exit code when the shell exited normally.
        public var exitCode: Int32?
        /// Signal that ended the shell, if one did.
        public var signal: Int32?
        public var timedOut: Bool
        /// The last `stdoutLimit` bytes the command printed (the score is on its last line).
        public var stdout: Data
        /// The last `stderrLimit` bytes of its diagnostics.
        public var stderr: Data
        public var seconds: Double
    }

    public static let stdoutLimit = 1 << 20
    public static let stderrLimit = 64 << 10

    /// `scratchDirectory` is kept for callers; output no longer goes through files there.
    public static func run(_ command: String, environment extra: [String: String], timeout: Double,
                           scratchDirectory: String) throws -> Result {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        // Evaluations start concurrently (--jobs N): a pipe made by one thread must not leak
        // into the command another thread spawns, or that command holds its write end and the
        // reader sees no end of output until the wrong process exits. pipe2(O_CLOEXEC) makes
        // the ends close-on-exec atomically; where Swift's libc lacks it, pipe + FD_CLOEXEC
        // runs under `spawnLock` together with the spawn, so no spawn falls in between.
        // The child also closes every descriptor above 2 (closefrom), so nothing else tvtool
        // holds open (records, candidate files, mapped checkpoints) reaches the command.
        Self.spawnLock.lock()
        var spawnLocked = true
        defer { if spawnLocked { Self.spawnLock.unlock() } }
        func cloexecPipe(_ fds: inout [Int32]) -> Bool {
            if let pipe2 = LibC.pipe2 { return fds.withUnsafeMutableBufferPointer { pipe2($0.baseAddress!, O_CLOEXEC) } == 0 }
            guard pipe(&fds) == 0 else { return false }
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return true
        }
        guard cloexecPipe(&outPipe) else {
            throw StorageError.cannotOpen(path: "/bin/sh", reason: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        guard cloexecPipe(&errPipe) else {
            let reason = String(cString: strerror(errno))
            close(outPipe[0]); close(outPipe[1])
            throw StorageError.cannotOpen(path: "/bin/sh", reason: "cannot create a pipe: \(reason)")
        }
        defer { close(outPipe[0]); close(errPipe[0]) }
        var writeEndsOpen = true
        defer { if writeEndsOpen { close(outPipe[1]); close(errPipe[1]) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        if let closeFrom = LibC.spawnCloseFrom { _ = closeFrom(&actions, 3) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // A new process group (pgid = child pid) so a timeout can kill everything the command started.
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attr, 0)

        var env = ProcessInfo.processInfo.environment
        for (k, v) in extra { env[k] = v }
        let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", command].map { s in s.withCString { strdup($0) } } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { kv in "\(kv.key)=\(kv.value)".withCString { strdup($0) } } + [nil]
        defer { for p in argv { free(p) }; for p in envp { free(p) } }

        let start = Date()
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp)
        Self.spawnLock.unlock(); spawnLocked = false
        guard rc == 0 else { throw StorageError.cannotOpen(path: "/bin/sh", reason: "cannot start the evaluation command: \(String(cString: strerror(rc)))") }
        TerminationSignals.addChildProcessGroup(pid)
        defer { TerminationSignals.removeChildProcessGroup(pid) }
        close(outPipe[1]); close(errPipe[1]); writeEndsOpen = false
        for fd in [outPipe[0], errPipe[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }

        var out = TailBuffer(limit: stdoutLimit), err = TailBuffer(limit: stderrLimit)
        var status: Int32 = 0
        var timedOut = false
        while true {
            // Read whatever is there (waiting at most 50 ms), then check the shell and the clock:
            // a flood of output can neither postpone the timeout nor grow without bound.
            var fds = [pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0),
                       pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, 50)
            out.drain(outPipe[0]); err.drain(errPipe[0])
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r < 0 && errno != EINTR) {
                out.drain(outPipe[0]); err.drain(errPipe[0])  // what it wrote just before exiting
                break
            }
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
                kill(-pid, SIGTERM)
                let graceEnd = Date().addingTimeInterval(2)
                while waitpid(pid, &status, WNOHANG) == 0 && Date() < graceEnd {
                    out.drain(outPipe[0]); err.drain(errPipe[0])
                    usleep(20_000)
                }
                kill(-pid, SIGKILL)  // stragglers (and the shell, if it ignored SIGTERM)
                _ = waitpid(pid, &status, 0)
                break
            }
        }
        let seconds = Date().timeIntervalSince(start)
        // Decode the wait status by hand: WIFEXITED and friends are C macros Swift cannot import.
        let sig = status & 0x7f
        return Result(exitCode: sig == 0 ? (status >> 8) & 0xff : nil, signal: sig == 0 ? nil : sig,
                      timedOut: timedOut, stdout: out.data, stderr: err.data, seconds: seconds)
    }

    /// Serialises pipe creation and spawning between evaluation threads (see `run`).
    static let spawnLock = NSLock()

    /// GNU/BSD calls Swift's Glibc module does not show, looked up at run time (nil if absent).
    enum LibC {
        typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        static let pipe2: Pipe2? = symbol("pipe2")
        /// glibc 2.34+: the child closes every descriptor from the given one up.
        static let spawnCloseFrom: CloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")

        private static func symbol<T>(_ name: String) -> T? {
            guard let handle = dlopen(nil, RTLD_NOW), let p = dlsym(handle, name) else { return nil }
            return unsafeBitCast(p, to: T.self)
        }
    }

    /// The last `limit` bytes read from a non-blocking descriptor.
    struct TailBuffer {
        let limit: Int
        private var buffer = Data()
        init(limit: Int) { self.limit = limit }

        var data: Data { buffer.count > limit ? Data(buffer.suffix(limit)) : buffer }

        /// Reads what the descriptor has right now, at most 4 MB per call so that a command
        /// writing faster than this reads still lets the caller check its clock.
        mutating func drain(_ fd: Int32) {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            for _ in 0..<64 {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return }
                buffer.append(contentsOf: chunk[0..<n])
                if buffer.count > 2 * limit { buffer = Data(buffer.suffix(limit)) }
            }
        }
    }

    /// Quotes `s` for /bin/sh (single quotes; embedded ' becomes '\'').
    public static func quote(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

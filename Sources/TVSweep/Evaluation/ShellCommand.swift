#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TVStorage

/// Runs `/bin/sh -c command` in its own process group with stdout and stderr captured to files,
/// and a timeout after which the whole group (the shell and everything it started) gets SIGTERM,
/// then SIGKILL two seconds later.
public enum ShellCommand {
    public struct Result: Sendable {
        /// Exit code when the shell exited normally.
        public var exitCode: Int32?
        /// Signal that ended the shell, if one did.
        public var signal: Int32?
        public var timedOut: Bool
        public var stdout: Data
        public var stderr: Data
        public var seconds: Double
    }

    public static func run(_ command: String, environment extra: [String: String], timeout: Double,
                           scratchDirectory: String) throws -> Result {
        let tag = "\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let outPath = scratchDirectory + "/tvtool-eval-\(tag).out"
        let errPath = scratchDirectory + "/tvtool-eval-\(tag).err"
        defer { unlink(outPath); unlink(errPath) }
        let outFD = open(outPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let errFD = open(errPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { if outFD >= 0 { close(outFD) }; if errFD >= 0 { close(errFD) } }
        guard outFD >= 0, errFD >= 0 else {
            throw StorageError.cannotWrite(path: scratchDirectory, reason: "cannot create the command's capture files: \(String(cString: strerror(errno)))")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outFD, 1)
        posix_spawn_file_actions_adddup2(&actions, errFD, 2)
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
        guard rc == 0 else { throw StorageError.cannotOpen(path: "/bin/sh", reason: "cannot start the evaluation command: \(String(cString: strerror(rc)))") }
        TerminationSignals.addChildProcessGroup(pid)
        defer { TerminationSignals.removeChildProcessGroup(pid) }

        var status: Int32 = 0
        var timedOut = false
        var nap: UInt32 = 2_000
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { break }
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
                kill(-pid, SIGTERM)
                let graceEnd = Date().addingTimeInterval(2)
                while waitpid(pid, &status, WNOHANG) == 0 && Date() < graceEnd { usleep(20_000) }
                kill(-pid, SIGKILL)  // stragglers (and the shell, if it ignored SIGTERM)
                _ = waitpid(pid, &status, 0)
                break
            }
            usleep(nap)
            nap = min(nap * 2, 50_000)
        }
        let seconds = Date().timeIntervalSince(start)
        // Decode the wait status by hand: WIFEXITED and friends are C macros Swift cannot import.
        let sig = status & 0x7f
        return Result(exitCode: sig == 0 ? (status >> 8) & 0xff : nil, signal: sig == 0 ? nil : sig,
                      timedOut: timedOut,
                      stdout: FileManager.default.contents(atPath: outPath) ?? Data(),
                      stderr: FileManager.default.contents(atPath: errPath) ?? Data(),
                      seconds: seconds)
    }

    /// Quotes `s` for /bin/sh (single quotes; embedded ' becomes '\'').
    public static func quote(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

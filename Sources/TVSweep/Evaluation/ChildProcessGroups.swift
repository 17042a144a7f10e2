#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The process groups of evaluation commands currently running. Each command runs in its own
/// group (so a timeout can kill everything it started), which also means a Ctrl-C or a batch
/// system's SIGTERM aimed at tvtool would not reach it: `forwardTerminationSignals()` makes
/// tvtool pass SIGINT/SIGTERM on to every running group before exiting.
public enum ChildProcessGroups {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var groups = Set<pid_t>()
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    nonisolated(unsafe) private static var terminating = false

    /// True once a termination signal arrived: evaluations that end now were cut short by it and
    /// must not be recorded (a resumed run evaluates them again).
    public static var isTerminating: Bool { lock.lock(); defer { lock.unlock() }; return terminating }

    static func add(_ pgid: pid_t) { lock.lock(); groups.insert(pgid); lock.unlock() }
    static func remove(_ pgid: pid_t) { lock.lock(); groups.remove(pgid); lock.unlock() }

    /// Parks the calling thread while the signal handler finishes the shutdown (it exits the
    /// process within a fraction of a second), so no output is written from partial results.
    static func parkIfTerminating() {
        guard isTerminating else { return }
        while true { sleep(1) }
    }

    /// Sends `signal` to every running group.
    public static func signalAll(_ signal: Int32) {
        lock.lock(); let all = groups; lock.unlock()
        for g in all { kill(-g, signal) }
    }

    /// On SIGINT or SIGTERM: terminate the running evaluation commands, then exit with 128+signal.
    /// Records already appended stay valid; the points in flight are simply not recorded.
    public static func forwardTerminationSignals() {
        lock.lock(); defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                lock.lock(); terminating = true; lock.unlock()
                signalAll(SIGTERM)
                usleep(200_000)
                signalAll(SIGKILL)
                exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}

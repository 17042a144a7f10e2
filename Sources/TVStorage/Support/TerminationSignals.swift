#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// The process-wide termination-signal handling (SIGINT, SIGTERM, SIGHUP, SIGPIPE, …): one place that knows what must be undone when tvtool
/// is interrupted. `install()` (main.swift calls it before running any command) turns the first
/// signal into an orderly shutdown — cancellation actions run, running child process groups get
/// SIGTERM then SIGKILL, pending temporary output files are removed — and exits with
/// 128 + signal. A second signal while that runs exits at once.
///
/// Signals are delivered to a dispatch queue (an ordinary thread), where taking locks, unlinking
/// and `kill` are safe, unlike in an async signal handler.
public enum TerminationSignals {
    /// An action registered with `onTerminate`; pass it to `remove(_:)` when no longer needed.
    public struct Token: Hashable, Sendable { fileprivate let id: Int }

    /// Every signal whose default action ends the process (without a core dump): each gets the
    /// orderly shutdown, so none leaves temporary files, candidates or child process groups.
    public static let handled: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU, SIGXFSZ]

    /// Installs the handlers (idempotent).
    public static func install() { Registry.shared.installHandlers() }

    /// True once a termination signal arrived: work finishing now was cut short by it and must
    /// not be recorded as a result.
    public static var isTerminating: Bool { Registry.shared.isTerminating }

    /// Parks the calling thread while the shutdown finishes (it exits the process within a
    /// fraction of a second), so no output is written from partial results.
    public static func parkIfTerminating() {
        guard isTerminating else { return }
        while true { sleep(1) }
    }

    /// Runs `action` on the first termination signal, before children are killed and temporary
    /// files removed (e.g. setting a cancellation flag so workers stop starting new work).
    @discardableResult
    public static func onTerminate(_ action: @escaping @Sendable () -> Void) -> Token {
        Registry.shared.addAction(action)
    }

    public static func remove(_ token: Token) { Registry.shared.removeAction(token) }

    /// A child running in its own process group (pgid); the shutdown signals the whole group.
    public static func addChildProcessGroup(_ pgid: pid_t) { Registry.shared.addGroup(pgid) }
    public static func removeChildProcessGroup(_ pgid: pid_t) { Registry.shared.removeGroup(pgid) }

    /// An uncommitted temporary file (AtomicOutputFile registers its own). Also removed by an
    /// `atexit` hook, since a process that calls `exit()` never runs pending deinits.
    public static func addTemporaryFile(_ path: String) { Registry.shared.addFile(path) }
    public static func removeTemporaryFile(_ path: String) { Registry.shared.removeFile(path) }
}

private final class Registry: @unchecked Sendable {
    static let shared = Registry()
    private var lock = pthread_mutex_t()
    private var actions: [Int: @Sendable () -> Void] = [:]
    private var nextID = 0
    private var groups = Set<pid_t>()
    private var files = Set<String>()
    private var terminating = false
    private var sources: [DispatchSourceSignal] = []

    private init() {
        pthread_mutex_init(&lock, nil)
        atexit { Registry.shared.removeFiles() }
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return body()
    }

    var isTerminating: Bool { locked { terminating } }

    func addAction(_ action: @escaping @Sendable () -> Void) -> TerminationSignals.Token {
        locked {
            nextID += 1
            actions[nextID] = action
            return TerminationSignals.Token(id: nextID)
        }
    }
    func removeAction(_ token: TerminationSignals.Token) { _ = locked { actions.removeValue(forKey: token.id) } }
    func addGroup(_ pgid: pid_t) { _ = locked { groups.insert(pgid) } }
    func removeGroup(_ pgid: pid_t) { _ = locked { groups.remove(pgid) } }
    func removeFile(_ path: String) { _ = locked { files.remove(path) } }

    /// A file created after the shutdown swept the registry is removed at once.
    func addFile(_ path: String) {
        let late = locked { () -> Bool in
            if terminating { return true }
            files.insert(path)
            return false
        }
        if late { unlink(path) }
    }

    func removeFiles() {
        let all = locked { () -> Set<String> in defer { files.removeAll() }; return files }
        for p in all { unlink(p) }
    }

    func installHandlers() {
        locked {
            guard sources.isEmpty else { return }
            for sig in TerminationSignals.handled {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler { Registry.shared.handle(sig) }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// The handler returns at once so that a second signal is seen while the shutdown runs.
    private func handle(_ sig: Int32) {
        let first = locked { () -> Bool in
            defer { terminating = true }
            return !terminating
        }
        guard first else { _exit(128 + sig) }
        Thread.detachShutdown { Registry.shared.shutDown(sig) }
    }

    private func shutDown(_ sig: Int32) -> Never {
        let (acts, pgids) = locked { (Array(actions.values), groups) }
        for a in acts { a() }
        if !pgids.isEmpty {
            for g in pgids { kill(-g, SIGTERM) }
            usleep(200_000)
            for g in pgids { kill(-g, SIGKILL) }
        }
        removeFiles()
        _exit(128 + sig)
    }
}

private enum Thread {
    /// A plain pthread, so the shutdown does not wait for a busy dispatch pool.
    static func detachShutdown(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let b = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            b.body()
            return nil
        }, box)
        if rc == 0 { pthread_detach(tid) } else { Unmanaged<Box>.fromOpaque(box).takeRetainedValue().body() }
    }

    private final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}

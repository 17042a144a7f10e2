import COpenBLAS
import Foundation

/// OpenBLAS's thread count, one setting for the whole process (docs/trainer.md, "Thread model").
///
/// tvtool parallelises its own work (finetune jobs, search candidates, batch halves, data-parallel
/// evaluation); inside such work OpenBLAS must run on the calling thread only, else each job's
/// GEMMs would wake OpenBLAS's threads too (oversubscribed cores, threads spinning for work).
/// `singleThreaded` is that scope. Scopes nest and may run on several threads at once: the first
/// to enter saves the count and sets 1, the last to leave restores it (a save/set/restore per
/// caller, as before, could restore the old count while another thread's scope still ran).
public enum BLASThreads {
    /// Sets the count outside any scope (commands do this from --threads before their work).
    public static func set(_ n: Int) {
        scope.lock.lock(); defer { scope.lock.unlock() }
        if scope.depth > 0 { scope.saved = max(1, n) } else { openblas_set_num_threads(Int32(max(1, n))) }
    }

    /// The count in effect (1 inside a single-threaded scope).
    public static var current: Int { Int(openblas_get_num_threads()) }

    /// Runs `body` with OpenBLAS on one thread.
    public static func singleThreaded<T>(_ body: () throws -> T) rethrows -> T {
        scope.enter()
        defer { scope.leave() }
        return try body()
    }

    /// `singleThreaded` when `condition` holds (e.g. more than one worker), else just `body`.
    public static func singleThreaded<T>(if condition: Bool, _ body: () throws -> T) rethrows -> T {
        condition ? try singleThreaded(body) : try body()
    }

    private static let scope = Scope()

    private final class Scope: @unchecked Sendable {
        let lock = NSLock()
        var depth = 0
        var saved = 1

        func enter() {
            lock.lock(); defer { lock.unlock() }
            if depth == 0 {
                saved = Int(openblas_get_num_threads())
                openblas_set_num_threads(1)
            }
            depth += 1
        }

        func leave() {
            lock.lock(); defer { lock.unlock() }
            depth -= 1
            if depth == 0 { openblas_set_num_threads(Int32(saved)) }
        }
    }
}

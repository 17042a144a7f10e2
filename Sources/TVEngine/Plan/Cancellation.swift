import Foundation
import TVStorage

/// A flag a long streaming pass checks between tensors, so a cancelled merge aborts its writer and
/// leaves no temporary or partial file behind. The CLI's token is set by `TerminationSignals` on
/// SIGINT/SIGTERM, which then also removes pending temporary files and exits.
public final class Cancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    public init() {}

    /// A token that the process-wide termination handler cancels on SIGINT/SIGTERM.
    public static func setOnTerminationSignal() -> Cancellation {
        let c = Cancellation()
        TerminationSignals.onTerminate { c.cancel() }
        return c
    }

    public func cancel() {
        lock.lock(); cancelled = true; lock.unlock()
    }

    public var isCancelled: Bool {
        lock.lock(); defer { lock.unlock() }
        return cancelled
    }

    /// Throws `EngineError.interrupted` once cancelled.
    public func check() throws {
        if isCancelled { throw EngineError.interrupted }
    }
}

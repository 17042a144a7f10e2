import Foundation

/// A flag a long streaming pass checks between tensors (the CLI sets it on SIGINT/SIGTERM), so an
/// interrupted merge aborts its writer and leaves no temporary or partial file behind.
public final class Cancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    public init() {}

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

import Dispatch

/// Writes tensors on a background queue while the next tensor is computed, with at most one write
/// in flight (so two output buffers suffice and writes stay in order). Used by the engine's
/// streaming merge and by `CheckpointConverter`.
///
/// Invariant: the writer is only touched from the write queue between `submit` and `wait`, and
/// from the caller's thread after `wait`; never from two threads at once.
public final class WritePipeline: @unchecked Sendable {
    private let writer: any CheckpointWriter
    private let queue = DispatchQueue(label: "tvtool.write")
    private let group = DispatchGroup()
    private var failure: (any Error)?
    private var pending: Tensor?

    public init(_ writer: any CheckpointWriter) { self.writer = writer }

    /// Waits for the previous write, then starts writing `tensor`.
    public func submit(_ tensor: Tensor, named name: String) throws {
        try wait()
        pending = tensor
        group.enter()
        queue.async {
            do { try self.writer.write(self.pending!, named: name) } catch { self.failure = error }
            self.pending = nil  // drop the buffer view before signalling, so it can be reused
            self.group.leave()
        }
    }

    /// Waits for the write in flight and rethrows its error.
    public func wait() throws {
        group.wait()
        if let failure { throw failure }
    }
}

import Dispatch
import TVStorage

/// One block of a tensor as raw bytes: each operand's stored values for elements
/// `offset..<offset+count` (nil for a model that lacks the tensor), and the worker's scratch for
/// the block's result (room for `count` values of 8 bytes). Valid only inside the callback.
struct RawBlock {
    /// The worker (segment) running this block: indexes per-worker accumulators.
    let segment: Int
    let offset: Int
    let count: Int
    let base: UnsafeRawPointer
    let models: [UnsafeRawPointer?]
    let scratch: UnsafeMutableRawPointer
}

extension ChunkRunner {
    /// Hands every block of `operands` to `body(block)`, undecoded, for kernels that convert in
    /// registers (see `FusedLinear`). Segments and blocks are laid out as in `forEachChunk`, so the
    /// same worker count gives the same split; `body` runs concurrently for different segments.
    /// With `filling`, the pass also reads the operands into that resident copy (see ResidentCopy).
    func forEachRawBlock(_ operands: TensorOperands, filling: ResidentCopy? = nil, _ body: @Sendable (RawBlock) -> Void) {
        let n = operands.elementCount
        guard n > 0 else { return }
        let chunks = (n + Self.chunkElements - 1) / Self.chunkElements
        let segments = min(segmentCount(elements: n), chunks)
        if segments == 1 {
            runRawSegment(0, of: segments, chunks: chunks, operands, filling: filling, body)
        } else {
            DispatchQueue.concurrentPerform(iterations: segments) { segment in
                self.runRawSegment(segment, of: segments, chunks: chunks, operands, filling: filling, body)
            }
        }
    }

    private func runRawSegment(_ segment: Int, of segments: Int, chunks: Int, _ operands: TensorOperands,
                               filling: ResidentCopy?, _ body: @Sendable (RawBlock) -> Void) {
        // One staging slot per operand, then the result slot.
        let slots = operands.models.count + 1
        let (memory, capacity) = pool.take(Self.blockBytes * (slots + 1))
        defer { pool.give(memory, capacity: capacity) }
        forEachBlock(ofSegment: segment, of: segments, chunks: chunks, operands, staging: memory, filling: filling) { _, _, lo, count, sources in
            body(RawBlock(segment: segment, offset: lo, count: count, base: sources[0]!, models: Array(sources.dropFirst()),
                          scratch: memory + slots * Self.blockBytes))
        }
    }
}

import Dispatch
import Foundation
import TVStorage

/// Runs a tensor through chunk-sized pieces in parallel: each worker owns a contiguous range of
/// chunks and its own cache-resident scratch (base, one task-vector chunk per model, output), so a
/// pass reads every operand once from memory and writes the output once.
///
/// Chunking is deterministic for a given worker count; reductions add per-worker partials in
/// worker order, so results are reproducible run to run on the same machine.
public struct ChunkRunner: Sendable {
    /// Elements per chunk: 4096 × (models + 2) × 4 bytes stays in L1/L2.
    public static let chunkElements = 4096
    /// Tensors smaller than this run on one worker (dispatch would cost more than it saves).
    public static let parallelThreshold = 1 << 16
    public let workers: Int

    public init(workers: Int? = nil) {
        self.workers = max(1, workers ?? ProcessInfo.processInfo.activeProcessorCount)
    }

    public func segmentCount(elements n: Int) -> Int {
        n < Self.parallelThreshold ? 1 : workers
    }

    /// Decodes every chunk of `operands` and hands it to `body(segment, chunk)`. When `output` is
    /// given, the chunk's `out` values are encoded into it (element offsets, `outputDType`) after
    /// `body` returns. `body` may run concurrently for different segments.
    public func forEachChunk<T: ComputeScalar>(
        _ operands: TensorOperands, as _: T.Type,
        output: UnsafeMutableRawPointer? = nil, outputDType: DType = .f32,
        _ body: @Sendable (Int, DecodedChunk<T>) -> Void
    ) {
        let n = operands.elementCount
        guard n > 0 else { return }
        let chunk = Self.chunkElements
        let chunks = (n + chunk - 1) / chunk
        let segments = min(segmentCount(elements: n), chunks)
        let out = output.map(SendableRawPointer.init)
        if segments == 1 {
            Self.runSegment(0, of: segments, chunks: chunks, operands, output: out, outputDType: outputDType, body)
        } else {
            DispatchQueue.concurrentPerform(iterations: segments) { segment in
                Self.runSegment(segment, of: segments, chunks: chunks, operands, output: out, outputDType: outputDType, body)
            }
        }
    }

    /// One worker's contiguous run of chunks, with its own scratch.
    private static func runSegment<T: ComputeScalar>(
        _ segment: Int, of segments: Int, chunks: Int, _ operands: TensorOperands,
        output out: SendableRawPointer?, outputDType: DType, _ body: @Sendable (Int, DecodedChunk<T>) -> Void
    ) {
        let n = operands.elementCount
        let chunk = chunkElements
        let models = operands.models.count
        let firstChunk = segment * chunks / segments
        let endChunk = (segment + 1) * chunks / segments
        let scratch = UnsafeMutablePointer<T>.allocate(capacity: chunk * (models + 2))
        let staging = UnsafeMutablePointer<Float>.allocate(capacity: chunk)
        defer { scratch.deallocate(); staging.deallocate() }
        let basePtr = scratch
        let outPtr = scratch + chunk
        let deltaPtrs = (0..<models).map { scratch + chunk * (2 + $0) }
        for c in firstChunk..<endChunk {
            let lo = c * chunk
            let count = min(chunk, n - lo)
            T.decode(operands.base.storage.base, dtype: operands.base.dtype, offset: lo, count: count,
                     into: basePtr, staging: staging)
            for (i, model) in operands.models.enumerated() {
                let d = deltaPtrs[i]
                guard let model else { d.update(repeating: 0, count: count); continue }
                T.decode(model.storage.base, dtype: model.dtype, offset: lo, count: count, into: d, staging: staging)
                if !operands.modelIsTaskVector[i] { ElementwiseKernels.subtract(d, basePtr, count: count) }
            }
            body(segment, DecodedChunk(offset: lo, count: count, base: basePtr, deltas: deltaPtrs, out: outPtr))
            if let out {
                T.encode(outPtr, count: count, as: outputDType, into: out.pointer, offset: lo, staging: staging)
            }
        }
    }
}

/// Per-segment accumulators for parallel reductions. Each segment reads and writes only its own
/// slot (fixed-size storage, never reallocated), which is what makes the unchecked Sendable sound.
public final class SegmentSlots<Value>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Value>
    public let count: Int

    public init(count: Int, initial: Value) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: initial, count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    public subscript(segment: Int) -> Value {
        get { slots[segment] }
        set { slots[segment] = newValue }
    }

    public var all: [Value] { Array(UnsafeBufferPointer(start: slots, count: count)) }
}

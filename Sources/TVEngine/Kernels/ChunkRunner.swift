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
    /// Chunks fetched per read: 16 × 4096 elements (128 KB of F16 per operand, as `cat` reads).
    static let blockChunks = 16
    public let workers: Int
    let reader = SourceReader()
    let pool = ScratchPool()
    /// Memory of the tensor-sized `ResidentCopy` of methods that read a tensor several times.
    let residentBuffer = ResidentBuffer()
    /// inf/NaN seen in encoded output chunks (see `OutputCheck`).
    let outputCheck = OutputCheck()

    public init(workers: Int? = nil) {
        self.workers = max(1, workers ?? ProcessInfo.processInfo.activeProcessorCount)
    }

    public func segmentCount(elements n: Int) -> Int {
        n < Self.parallelThreshold ? 1 : workers
    }

    /// Decodes every chunk of `operands` and hands it to `body(segment, chunk)`. When `output` is
    /// given, the chunk's `out` values are encoded into it (element offsets, `outputDType`) after
    /// `body` returns. `body` may run concurrently for different segments. With `rawModels`, a
    /// checkpoint model's chunk holds theta_i instead of tau_i (a missing model reads as the base,
    /// i.e. still a zero task vector).
    public func forEachChunk<T: ComputeScalar>(
        _ operands: TensorOperands, as _: T.Type,
        output: UnsafeMutableRawPointer? = nil, outputDType: DType = .f32, rawModels: Bool = false,
        _ body: @Sendable (Int, DecodedChunk<T>) -> Void
    ) {
        let n = operands.elementCount
        guard n > 0 else { return }
        let chunk = Self.chunkElements
        let chunks = (n + chunk - 1) / chunk
        let segments = min(segmentCount(elements: n), chunks)
        let out = output.map(SendableRawPointer.init)
        if segments == 1 {
            runSegment(0, of: segments, chunks: chunks, operands, output: out, outputDType: outputDType, rawModels: rawModels, body)
        } else {
            DispatchQueue.concurrentPerform(iterations: segments) { segment in
                self.runSegment(segment, of: segments, chunks: chunks, operands, output: out, outputDType: outputDType, rawModels: rawModels, body)
            }
        }
    }

    /// One worker's contiguous run of chunks, with its own scratch. Chunks are grouped in blocks
    /// of `blockChunks`; each block's bytes are fetched once per operand through `reader`.
    private func runSegment<T: ComputeScalar>(
        _ segment: Int, of segments: Int, chunks: Int, _ operands: TensorOperands,
        output out: SendableRawPointer?, outputDType: DType, rawModels: Bool, _ body: @Sendable (Int, DecodedChunk<T>) -> Void
    ) {
        let n = operands.elementCount
        let chunk = Self.chunkElements
        let models = operands.models.count
        // One pooled block: chunk scratch (T) | Float staging | per-operand block staging.
        let blockBytes = Self.blockBytes
        let scratchBytes = chunk * (models + 2) * MemoryLayout<T>.stride
        let stagingBytes = chunk * MemoryLayout<Float>.stride
        let (memory, capacity) = pool.take(scratchBytes + stagingBytes + blockBytes * (models + 1))
        defer { pool.give(memory, capacity: capacity) }
        let scratch = memory.bindMemory(to: T.self, capacity: chunk * (models + 2))
        let staging = (memory + scratchBytes).bindMemory(to: Float.self, capacity: chunk)
        let blockStaging = memory + scratchBytes + stagingBytes
        let basePtr = scratch
        let outPtr = scratch + chunk
        let deltaPtrs = (0..<models).map { scratch + chunk * (2 + $0) }
        forEachBlock(ofSegment: segment, of: segments, chunks: chunks, operands, staging: blockStaging) { blockStart, blockEnd, blockLo, _, sources in
            for c in blockStart..<blockEnd {
                let lo = c * chunk
                let count = min(chunk, n - lo)
                T.decode(sources[0]!, dtype: operands.base.dtype, offset: lo - blockLo, count: count, into: basePtr, staging: staging)
                for (i, model) in operands.models.enumerated() {
                    let d = deltaPtrs[i]
                    guard let model, let src = sources[i + 1] else {
                        // A missing model has a zero task vector: as raw values that is the base.
                        if rawModels && !operands.modelIsTaskVector[i] { d.update(from: basePtr, count: count) } else { d.update(repeating: 0, count: count) }
                        continue
                    }
                    T.decode(src, dtype: model.dtype, offset: lo - blockLo, count: count, into: d, staging: staging)
                    if !rawModels && !operands.modelIsTaskVector[i] { ElementwiseKernels.subtract(d, basePtr, count: count) }
                }
                body(segment, DecodedChunk(offset: lo, count: count, base: basePtr, deltas: deltaPtrs, out: outPtr))
                if let out {
                    T.encode(outPtr, count: count, as: outputDType, into: out.pointer, offset: lo, staging: staging)
                    outputCheck.scan(out.pointer + lo * outputDType.bitWidth / 8, count: count, dtype: outputDType, firstElement: lo)
                }
            }
        }
    }

    /// Bytes per operand slot of block staging: a whole block of the widest dtype (8 bytes).
    static var blockBytes: Int { blockChunks * chunkElements * 8 }

    /// One segment's chunks in blocks of up to `blockChunks`: for each block, every operand's bytes
    /// (read into `staging`, one `blockBytes` slot per operand, or viewed in place; nil for a
    /// missing model) go to `body(firstChunk, endChunk, firstElement, elementCount, sources)`.
    /// With `filling`, file-backed operands are read into that copy's regions instead (and the
    /// block handed on from there); once a tensor's copy is filled, every pass reads it in place.
    func forEachBlock(ofSegment segment: Int, of segments: Int, chunks: Int, _ operands: TensorOperands,
                      staging: UnsafeMutableRawPointer, filling: ResidentCopy? = nil,
                      _ body: (Int, Int, Int, Int, [UnsafeRawPointer?]) -> Void) {
        let resident = filling ?? operands.resident.copy.flatMap { $0.filled ? $0 : nil }
        let n = operands.elementCount
        let chunk = Self.chunkElements
        let endChunk = (segment + 1) * chunks / segments
        // Looked up once per segment: each operand's storage and element width.
        let operandList: [(storage: ByteStorage, width: Int)?] = ([operands.base] + operands.models).map { t in
            t.map { ($0.storage, $0.dtype.bitWidth / 8) }
        }
        var blockStart = segment * chunks / segments
        while blockStart < endChunk {
            let blockEnd = min(blockStart + Self.blockChunks, endChunk)
            let lo = blockStart * chunk
            let count = min(blockEnd * chunk, n) - lo
            let sources: [UnsafeRawPointer?] = operandList.enumerated().map { i, op in
                guard let op else { return nil }
                if let region = resident?.regions[i] {
                    let place = region + lo * op.width
                    if filling != nil {
                        let p = reader.bytes(op.storage, byteOffset: lo * op.width, byteCount: count * op.width, staging: place)
                        if p != UnsafeRawPointer(place) { place.copyMemory(from: p, byteCount: count * op.width) }
                    }
                    return UnsafeRawPointer(place)
                }
                return reader.bytes(op.storage, byteOffset: lo * op.width, byteCount: count * op.width,
                                    staging: staging + i * Self.blockBytes)
            }
            body(blockStart, blockEnd, lo, count, sources)
            blockStart = blockEnd
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

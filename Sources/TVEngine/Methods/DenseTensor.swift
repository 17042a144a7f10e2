/// Whole-tensor operands for methods that cannot work chunk by chunk (rank within a row, variance
/// top-k over the tensor, norms and angles inside an iteration, SVDs): the base and every task
/// vector of ONE tensor decoded to Double, and the merged result, which the streaming pass then
/// encodes chunk by chunk. Peak memory is (models + 2) × 8 bytes per element of the largest
/// tensor, handed back to the pool when the tensor is done; nothing else of the model is held.
final class DenseTensor: @unchecked Sendable {
    let name: String
    let shape: [Int]
    let count: Int
    /// theta (count values).
    let base: UnsafeMutablePointer<Double>
    /// tau_i = theta_i - theta (a missing model's is zero).
    let deltas: [UnsafeMutablePointer<Double>]

    init(_ c: TensorContext) {
        name = c.name
        shape = c.operands.base.shape
        count = c.elementCount
        // Pooled (DenseScratchPool): fresh allocations of this size are mapped and faulted in anew
        // for every tensor; the pool hands the same pages to the next tensor.
        let n = max(count, 1)
        let blocks = (0...c.modelCount).map { _ in DenseScratchPool.shared.take(n) }
        capacities = blocks.map(\.1)
        let basePointer = blocks[0].0
        let deltaPointers = blocks.dropFirst().map(\.0)
        base = basePointer
        deltas = deltaPointers
        let b = SendablePointer(basePointer)
        let d = deltaPointers.map(SendablePointer.init)
        c.runner.forEachChunk(c.operands, as: Double.self) { _, chunk in
            // Workers own disjoint element ranges.
            (b.pointer + chunk.offset).update(from: chunk.base, count: chunk.count)
            for (i, src) in chunk.deltas.enumerated() { (d[i].pointer + chunk.offset).update(from: src, count: chunk.count) }
        }
    }

    private let capacities: [Int]

    deinit {
        for (p, c) in zip([base] + deltas, capacities) { DenseScratchPool.shared.giveBack(p, capacity: c) }
    }

    var modelCount: Int { deltas.count }

    func delta(_ i: Int) -> UnsafeBufferPointer<Double> { UnsafeBufferPointer(start: deltas[i], count: count) }

    /// The tensor seen as rows × columns: shape[0] × (product of the rest); a 1-D or 0-D tensor is
    /// one row.
    var rowsAndColumns: (rows: Int, columns: Int) {
        guard shape.count >= 2, shape[0] > 0 else { return (1, count) }
        return (shape[0], count / shape[0])
    }
}

/// The plan of a method that computed its whole output up front: the streaming pass copies (and
/// encodes) `values` chunk by chunk like any other plan's output.
struct PrecomputedCombiner: ChunkCombiner {
    let values: [Double]

    init(_ values: [Double]) { self.values = values }

    func combine(_ chunk: DecodedChunk<Float>) { copy(chunk) }
    func combine(_ chunk: DecodedChunk<Double>) { copy(chunk) }

    @inline(__always)
    private func copy<T: ComputeScalar>(_ chunk: DecodedChunk<T>) {
        values.withUnsafeBufferPointer { v in
            for j in 0..<chunk.count { chunk.out[j] = T(v[chunk.offset + j]) }
        }
    }
}

extension TensorPlan {
    /// A plan whose output is already computed (`values.count` = the tensor's element count).
    static func precomputed(_ values: [Double]) -> TensorPlan { .elementwise(PrecomputedCombiner(values)) }
}

/// Small helpers shared by the whole-tensor methods.
enum DenseMath {
    static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count n: Int) -> Double {
        var s = 0.0
        for j in 0..<n { s += a[j] * b[j] }
        return s
    }

    static func norm(_ a: UnsafePointer<Double>, count n: Int) -> Double { dot(a, a, count: n).squareRoot() }

    static func norm(_ a: [Double]) -> Double { a.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}

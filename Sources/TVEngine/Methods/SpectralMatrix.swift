import COpenBLAS
import Foundation

/// A dense column-major Double matrix with the few operations the SVD-based merges need (thin SVD
/// through LAPACK dgesdd, products through BLAS dgemm). Column-major so LAPACK/BLAS take it as is.
struct SpectralMatrix {
    let rows: Int
    let columns: Int
    var values: [Double]

    init(rows: Int, columns: Int, values: [Double]? = nil) {
        self.rows = rows
        self.columns = columns
        self.values = values ?? [Double](repeating: 0, count: rows * columns)
    }

    /// The row-major `rows × columns` values at `p` (a tensor's layout).
    init(rowMajor p: UnsafePointer<Double>, rows: Int, columns: Int) {
        self.init(rows: rows, columns: columns)
        for r in 0..<rows { for c in 0..<columns { values[c * rows + r] = p[r * columns + c] } }
    }

    subscript(r: Int, c: Int) -> Double {
        get { values[c * rows + r] }
        set { values[c * rows + r] = newValue }
    }

    /// The values in row-major order (a tensor's layout).
    var rowMajor: [Double] {
        var out = [Double](repeating: 0, count: rows * columns)
        for r in 0..<rows { for c in 0..<columns { out[r * columns + c] = values[c * rows + r] } }
        return out
    }

    /// The first `k` columns.
    func leadingColumns(_ k: Int) -> SpectralMatrix {
        SpectralMatrix(rows: rows, columns: k, values: Array(values[0..<(rows * k)]))
    }

    /// The first `k` rows.
    func leadingRows(_ k: Int) -> SpectralMatrix {
        var out = SpectralMatrix(rows: k, columns: columns)
        for c in 0..<columns { for r in 0..<k { out[r, c] = self[r, c] } }
        return out
    }

    /// [a | b | …] side by side (same row count).
    static func horizontal(_ parts: [SpectralMatrix], rows: Int) -> SpectralMatrix {
        SpectralMatrix(rows: rows, columns: parts.reduce(0) { $0 + $1.columns }, values: parts.flatMap(\.values))
    }

    /// [a; b; …] stacked (same column count).
    static func vertical(_ parts: [SpectralMatrix], columns: Int) -> SpectralMatrix {
        var out = SpectralMatrix(rows: parts.reduce(0) { $0 + $1.rows }, columns: columns)
        var offset = 0
        for p in parts {
            for c in 0..<columns { for r in 0..<p.rows { out[offset + r, c] = p[r, c] } }
            offset += p.rows
        }
        return out
    }

    /// self · other (optionally with self scaled column-wise by `scale` first: self · diag(scale) · other).
    func times(_ other: SpectralMatrix, columnScale scale: [Double]? = nil) -> SpectralMatrix {
        precondition(columns == other.rows)
        var left = self
        if let scale {
            for c in 0..<columns { for r in 0..<rows { left[r, c] *= scale[c] } }
        }
        var out = SpectralMatrix(rows: rows, columns: other.columns)
        guard rows > 0, other.columns > 0, columns > 0 else { return out }
        left.values.withUnsafeBufferPointer { a in
            other.values.withUnsafeBufferPointer { b in
                out.values.withUnsafeMutableBufferPointer { o in
                    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(other.columns), Int32(columns),
                                1, a.baseAddress, Int32(rows), b.baseAddress, Int32(columns), 0, o.baseAddress, Int32(rows))
                }
            }
        }
        return out
    }

    /// Thin SVD self = U diag(s) Vᵀ with r = min(rows, columns): U rows × r, s descending, Vᵀ r × columns.
    func svd(tensor: String) throws -> (u: SpectralMatrix, s: [Double], vt: SpectralMatrix) {
        let r = min(rows, columns)
        var u = SpectralMatrix(rows: rows, columns: r)
        var vt = SpectralMatrix(rows: r, columns: columns)
        var s = [Double](repeating: 0, count: r)
        guard r > 0 else { return (u, s, vt) }
        guard values.allSatisfy(\.isFinite) else {
            throw EngineError.notFinite(tensor: tensor, what: "a task matrix has non-finite values; cannot take its SVD")
        }
        var a = values
        var jobz: CChar = 83  // "S": the first min(m, n) singular vectors
        var m = Int32(rows), n = Int32(columns), lda = Int32(rows), ldu = Int32(rows), ldvt = Int32(r)
        var info: Int32 = 0
        var iwork = [Int32](repeating: 0, count: 8 * r)
        var query = 0.0
        var lwork: Int32 = -1
        dgesdd_(&jobz, &m, &n, &a, &lda, &s, &u.values, &ldu, &vt.values, &ldvt, &query, &lwork, &iwork, &info)
        lwork = Int32(query)
        var work = [Double](repeating: 0, count: max(Int(lwork), 1))
        dgesdd_(&jobz, &m, &n, &a, &lda, &s, &u.values, &ldu, &vt.values, &ldvt, &work, &lwork, &iwork, &info)
        guard info == 0 else {
            throw EngineError.notFinite(tensor: tensor, what: "LAPACK dgesdd did not converge (info \(info))")
        }
        return (u, s, vt)
    }

    /// The orthogonal Procrustes / polar factor P Qᵀ of self = P Σ Qᵀ: the matrix with orthonormal
    /// columns (or rows) nearest to self in Frobenius norm.
    func nearestOrthogonal(tensor: String) throws -> SpectralMatrix {
        let f = try svd(tensor: tensor)
        return f.u.times(f.vt)
    }
}

/// Which tensors the SVD methods factorise: 2-D weights as they are; 3-D and 4-D (conv) weights as
/// shape[0] × (product of the rest), i.e. (out, in·kh·kw), unless `conv` is 0. Others: nil
/// (the methods fall back to task arithmetic, as the papers do for non-matrix parameters).
enum SpectralShape {
    static let alpha = MethodParameter("alpha", .number, default: 1, doc: "scale of the merged task matrix (the papers tune it)")
    static let conv = MethodParameter("conv", .flag, default: 1, doc: "factorise conv weights as (out, in*kh*kw) (0: mean tau)")
    static func matrix(_ shape: [Int], includeConv: Bool) -> (rows: Int, columns: Int)? {
        switch shape.count {
        case 2: return shape[0] > 0 && shape[1] > 0 ? (shape[0], shape[1]) : nil
        case 3 where includeConv, 4 where includeConv:
            let rest = shape.dropFirst().reduce(1, *)
            return shape[0] > 0 && rest > 0 ? (shape[0], rest) : nil
        default: return nil
        }
    }

    /// Runs `body` with OpenBLAS on one thread: the SVD methods split their work over the
    /// merge's workers themselves (SpectralKernels). OpenBLAS's own threads spin in sched_yield
    /// between calls; with them, a third of Iso-C's samples were that spinning (41-61 s of system
    /// time on the 0.25-scale SD UNet) and, on a loaded machine, small SVDs ran 18× slower.
    /// The previous setting is restored (the merge does not run other BLAS work meanwhile).
    static func withBLASThreads<T>(_ body: () throws -> T) rethrows -> T {
        let previous = openblas_get_num_threads()
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(previous) }
        return try body()
    }

    /// The error the SVD path raised for a non-finite task matrix, checked before any path runs.
    static func requireFinite(_ d: DenseTensor, tensor: String, workers: Int) throws {
        let bad = FirstError()
        let deltas = d.deltas.map(SendablePointer.init)
        forRanges(d.count, workers: workers) { range in
            for t in deltas where !MatrixView(base: t.pointer + range.lowerBound, rows: range.count, columns: 1).allFinite {
                bad.record(EngineError.notFinite(tensor: tensor, what: "a task matrix has non-finite values; cannot take its SVD"))
            }
        }
        try bad.rethrow()
    }

    /// Σ_i tau_i, column-major rows × columns (the row-major tensor transposed, see TsvMerge);
    /// a non-finite sum (any non-finite tau_i makes one) is the SVD path's error.
    static func sumOfDeltas(_ d: DenseTensor, rows: Int, columns: Int, tensor: String, workers: Int) throws -> ScratchMatrix {
        let sum = ScratchMatrix(rows: rows, columns: columns)
        let out = SendablePointer(sum.base), deltas = d.deltas.map(SendablePointer.init)
        forRanges(d.count, workers: workers) { range in
            let o = out.pointer + range.lowerBound
            o.update(from: deltas[0].pointer + range.lowerBound, count: range.count)
            for t in deltas.dropFirst() {
                let p = t.pointer
                for j in range { o[j - range.lowerBound] += p[j] }
            }
        }
        let view = sum.view
        let bad = FirstError()
        forRanges(d.count, workers: workers) { range in
            if !MatrixView(base: view.base + range.lowerBound, rows: range.count, columns: 1).allFinite {
                bad.record(EngineError.notFinite(tensor: tensor, what: "a task matrix has non-finite values; cannot take its SVD"))
            }
        }
        try bad.rethrow()
        return sum
    }

    /// out = theta + out, elementwise.
    static func addBase(_ d: DenseTensor, to out: ScratchMatrix, workers: Int) {
        let o = SendablePointer(out.base), b = SendablePointer(d.base)
        forRanges(d.count, workers: workers) { range in
            for j in range { o.pointer[j] += b.pointer[j] }
        }
    }

    /// `body` over 0..<count in one contiguous range per worker (memory-bound loops).
    static func forRanges(_ count: Int, workers: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let parts = count >= 1 << 16 ? max(1, workers) : 1
        DispatchQueue.concurrentPerform(iterations: parts) { i in body(count * i / parts ..< count * (i + 1) / parts) }
    }

    /// Stores a result computed on a worker (`SpectralKernels.forEach`) at its index.
    static func store<T>(_ value: T, at i: Int, in slots: inout [T?]) {
        slotLock.withLock { slots[i] = value }
    }
    private static let slotLock = NSLock()

    /// [a | b | …] side by side (same row count).
    static func concatenate(_ parts: [ScratchMatrix]) -> ScratchMatrix {
        let out = ScratchMatrix(rows: parts.first?.rows ?? 0, columns: parts.reduce(0) { $0 + $1.columns })
        var offset = 0
        for p in parts {
            (out.base + offset).update(from: p.base, count: p.count)
            offset += p.count
        }
        return out
    }

    /// The fallback for a non-matrix tensor: theta + alpha · mean_i tau_i (TSV's and Iso's code).
    static func fallback(models: Int, alpha: Double) -> TensorPlan {
        .linear(baseScale: 1, coefficients: Array(repeating: alpha / Double(models), count: models))
    }
}

/// A precomputed output held in pooled scratch (PrecomputedCombiner's [Double] would be a fresh
/// allocation, and fresh pages, per tensor): the streaming pass copies it chunk by chunk.
struct ScratchOutput: ChunkCombiner {
    let values: ScratchMatrix

    func combine(_ chunk: DecodedChunk<Float>) { copy(chunk) }
    func combine(_ chunk: DecodedChunk<Double>) { copy(chunk) }

    @inline(__always)
    private func copy<T: ComputeScalar>(_ chunk: DecodedChunk<T>) {
        let v = values.base + chunk.offset
        for j in 0..<chunk.count { chunk.out[j] = T(v[j]) }
    }
}

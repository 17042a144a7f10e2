import COpenBLAS
import Dispatch

/// The factorisations behind TSV-Merge and Iso-C/CTS, through the Gram matrix of the smaller
/// side where that is accurate, else LAPACK's SVD (dgesdd).
///
/// Why the Gram matrix: for a p × q task matrix (p ≤ q; the SD UNet's conv and FF weights have
/// q up to 18 p), X Xᵀ (p × p, dsyrk) and its eigendecomposition (dsyevd) cost about a quarter of
/// dgesdd, whose QR/LQ and bidiagonal steps run at level-2 speed. Squaring the matrix squares its
/// condition number: the results then differ from the SVD's by about eps · (λ_max / λ_min) relative
/// (checked against numpy: 4e-10 at λ_min / λ_max = 1e-8). So the Gram path is taken only when every
/// eigenvalue that enters the result is at least `gramFloor` × the largest; a rank-deficient or
/// ill-conditioned matrix goes through dgesdd as before.
///
/// BLAS runs single-threaded (the caller holds `SpectralShape.withBLASThreads`); the large products
/// are split over the merge's workers here instead (OpenBLAS's own threads spin in sched_yield
/// between calls: a third of the Iso-C run's samples, most of its system time).
enum SpectralKernels {
    /// Smallest eigenvalue of the Gram matrix, relative to its largest, that the Gram path accepts.
    static let gramFloor = 1e-8

    /// Set by tests to force the dgesdd path (the reference the Gram path must match).
    nonisolated(unsafe) static var forceSVD = false

    /// X's factors restricted to the top k singular triplets: X ≈ U diag(s) Vᵀ with U rows × k,
    /// s descending, V columns × k (V, not Vᵀ).
    struct Triplets {
        let u: ScratchMatrix
        let s: [Double]
        let v: ScratchMatrix
        /// Whether the Gram path computed them (tests).
        var viaGram = false
    }

    /// The top `k` singular triplets of `x` (k ≤ min(rows, columns)).
    static func topTriplets(_ x: MatrixView, _ k: Int, workers: Int, tensor: String) throws -> Triplets {
        let p = min(x.rows, x.columns)
        precondition(k <= p)
        if k == 0 { return Triplets(u: ScratchMatrix(rows: x.rows, columns: 0), s: [], v: ScratchMatrix(rows: x.columns, columns: 0)) }
        if !forceSVD, let t = gramTriplets(x, k, workers: workers) { return t }
        return try svdTriplets(x, k, tensor: tensor)
    }

    /// The polar factor of `x` (the matrix with orthonormal columns, or rows, nearest to it: U Vᵀ of
    /// its thin SVD) and its min(rows, columns) singular values, descending.
    static func polar(_ x: MatrixView, workers: Int, tensor: String) throws -> (factor: ScratchMatrix, s: [Double], viaGram: Bool) {
        if min(x.rows, x.columns) > 0, !forceSVD, let p = gramPolar(x, workers: workers) { return (p.factor, p.s, true) }
        let f = try svdTriplets(x, min(x.rows, x.columns), tensor: tensor)
        let out = ScratchMatrix(rows: x.rows, columns: x.columns)
        product(f.u.view, f.v.view, transposeB: true, into: out.view, workers: workers)
        return (out, f.s, false)
    }

    // MARK: - Gram path

    /// Eigenvalues (ascending) and eigenvectors (columns of the returned matrix) of the Gram matrix
    /// of the smaller side: XᵀX when columns ≤ rows, else X Xᵀ. Nil if LAPACK fails.
    private static func gramEigen(_ x: MatrixView, workers: Int) -> (values: [Double], vectors: ScratchMatrix)? {
        let small = min(x.rows, x.columns)
        let g = ScratchMatrix(rows: small, columns: small)
        gram(x, into: g.view, workers: workers)
        var w = [Double](repeating: 0, count: small)
        guard symmetricEigen(g.view, values: &w) else { return nil }
        return (w, g)
    }

    /// XᵀX (columns ≤ rows) or X Xᵀ, full (both triangles), summed over the long side in
    /// `workers` slices computed at once.
    static func gram(_ x: MatrixView, into g: MatrixView, workers: Int) {
        let rightSide = x.columns <= x.rows  // XᵀX
        let n = g.rows
        let long = rightSide ? x.rows : x.columns
        let parts = max(1, min(workers, long / 512))
        let partials = (1..<parts).map { _ in ScratchMatrix(rows: n, columns: n) }
        DispatchQueue.concurrentPerform(iterations: parts) { i in
            let start = long * i / parts, end = long * (i + 1) / parts
            let out = i == 0 ? g : partials[i - 1].view
            if rightSide {
                cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, Int32(n), Int32(end - start), 1,
                            x.base + start, Int32(x.rows), 0, out.base, Int32(n))
            } else {
                cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, Int32(n), Int32(end - start), 1,
                            x.base + start * x.rows, Int32(x.rows), 0, out.base, Int32(n))
            }
        }
        for p in partials { for c in 0..<n { for r in 0...c { g.base[c * n + r] += p.base[c * n + r] } } }
        for c in 0..<n { for r in 0..<c { g.base[r * n + c] = g.base[c * n + r] } }
    }

    /// dsyevd on the symmetric `a` (upper triangle used): ascending eigenvalues into `values`,
    /// eigenvectors over `a`. False if LAPACK reports an error or a value is not finite.
    static func symmetricEigen(_ a: MatrixView, values w: inout [Double]) -> Bool {
        var n = Int32(a.rows), lda = Int32(a.rows), info: Int32 = 0
        var jobz: CChar = 86, uplo: CChar = 85  // "V", "U"
        // The documented minimum workspace for JOBZ = 'V' (what the size query returns).
        var lwork = Int32(1 + 6 * a.rows + 2 * a.rows * a.rows), liwork = Int32(3 + 5 * a.rows)
        let work = ScratchMatrix(rows: Int(lwork), columns: 1)
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jobz, &uplo, &n, a.base, &lda, &w, work.base, &lwork, &iwork, &liwork, &info)
        return info == 0 && w.allSatisfy(\.isFinite)
    }

    /// Whether the Gram path is accurate for these eigenvalues (`used` = the smallest that enters
    /// the result).
    private static func gramAccurate(largest: Double, used: Double) -> Bool {
        largest > 0 && largest.isFinite && used >= gramFloor * largest
    }

    private static func gramTriplets(_ x: MatrixView, _ k: Int, workers: Int) -> Triplets? {
        let small = min(x.rows, x.columns)
        guard let (w, q) = gramEigen(x, workers: workers), gramAccurate(largest: w[small - 1], used: w[small - k]) else { return nil }
        // Eigenvectors small - 1, small - 2, …: the top k, descending.
        let s = (0..<k).map { w[small - 1 - $0].squareRoot() }
        let known = ScratchMatrix(rows: small, columns: k)
        for j in 0..<k { (known.base + j * small).update(from: q.base + (small - 1 - j) * small, count: small) }
        // The other side: X v / s (known = V) or Xᵀ u / s (known = U).
        let rightSide = x.columns <= x.rows
        let other = ScratchMatrix(rows: rightSide ? x.rows : x.columns, columns: k)
        product(x, known.view, transposeA: !rightSide, into: other.view, workers: workers)
        for j in 0..<k {
            let inv = 1 / s[j]
            let c = other.base + j * other.rows
            for i in 0..<other.rows { c[i] *= inv }
        }
        return rightSide ? Triplets(u: other, s: s, v: known, viaGram: true) : Triplets(u: known, s: s, v: other, viaGram: true)
    }

    private static func gramPolar(_ x: MatrixView, workers: Int) -> (factor: ScratchMatrix, s: [Double])? {
        guard let (root, s) = gramPolarRoot(x, workers: workers) else { return nil }
        let out = ScratchMatrix(rows: x.rows, columns: x.columns)
        if x.columns <= x.rows {
            product(x, root.view, into: out.view, workers: workers)  // X (XᵀX)^(-1/2)
        } else {
            product(root.view, x, into: out.view, workers: workers)  // (X Xᵀ)^(-1/2) X
        }
        return (out, s)
    }

    /// (Gram)^(-1/2) of the smaller side and the singular values, when accurate.
    private static func gramPolarRoot(_ x: MatrixView, workers: Int) -> (root: ScratchMatrix, s: [Double])? {
        let small = min(x.rows, x.columns)
        guard let (w, q) = gramEigen(x, workers: workers), gramAccurate(largest: w[small - 1], used: w[0]) else { return nil }
        // G^(-1/2) = Q Λ^(-1/2) Qᵀ = Y Yᵀ with Y = Q Λ^(-1/4).
        for j in 0..<small {
            let f = 1 / w[j].squareRoot().squareRoot()
            let c = q.base + j * small
            for i in 0..<small { c[i] *= f }
        }
        let root = ScratchMatrix(rows: small, columns: small)
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, Int32(small), Int32(small), Int32(small), 1,
                    q.base, Int32(small), q.base, Int32(small), 0, root.base, Int32(small))
        return (root, w.reversed().map { $0.squareRoot() })
    }

    /// out = A⊥ diag(d) B⊥ᵀ with A⊥, B⊥ the polar factors of a (out.rows × k) and b
    /// (out.columns × k), both with at least k rows: TSV's and Iso-CTS's last step. The longer
    /// side's factor is never formed (A⊥ = a W with W = (aᵀa)^(-1/2) on the Gram path, so
    /// out = a · (W diag(d) B⊥ᵀ)): one large product instead of two. The two orthogonalisations
    /// run at once, the longer one's Gram matrix split over the workers.
    static func polarProduct(_ a: MatrixView, _ b: MatrixView, scale d: [Double], into out: MatrixView,
                             workers: Int, tensor: String) throws {
        let k = a.columns
        precondition(b.columns == k && d.count == k && out.rows == a.rows && out.columns == b.rows)
        guard a.rows >= k, b.rows >= k else {
            // More stacked vectors than dimensions (TSV with rank < T): orthonormal rows, explicitly.
            let pa = try polar(a, workers: workers, tensor: tensor).factor, pb = try polar(b, workers: workers, tensor: tensor).factor
            for j in 0..<k { for i in 0..<a.rows { pa.base[j * a.rows + i] *= d[j] } }
            product(pa.view, pb.view, transposeB: true, into: out, workers: workers)
            return
        }
        let longIsA = a.rows >= b.rows
        let long = longIsA ? a : b, short = longIsA ? b : a
        // Each side: (root W, nil) meaning factor = x W, or (nil, explicit factor).
        var sides = [(root: ScratchMatrix?, factor: ScratchMatrix?)?](repeating: nil, count: 2)
        try forEach(2, workers: workers) { i in
            let x = i == 0 ? long : short
            let side: (ScratchMatrix?, ScratchMatrix?)
            if !forceSVD, k > 0, let (root, _) = gramPolarRoot(x, workers: i == 0 ? workers : 1) {
                side = (root, nil)
            } else {
                side = (nil, try polar(x, workers: 1, tensor: tensor).factor)
            }
            SpectralShape.store(side, at: i, in: &sides)
        }
        let (longRoot, longFactor) = sides[0]!, (shortRoot, shortFactor) = sides[1]!
        // S = short⊥ diag(d) (short.rows × k).
        let scaled: ScratchMatrix
        if let shortRoot {
            scaled = ScratchMatrix(rows: short.rows, columns: k)
            product(short, shortRoot.view, into: scaled.view, workers: workers)
        } else {
            scaled = shortFactor!
        }
        for j in 0..<k {
            let c = scaled.base + j * short.rows
            for i in 0..<short.rows { c[i] *= d[j] }
        }
        // W S ᵀ (k × short.rows), or Sᵀ itself when the long side's factor is explicit.
        let longX = longFactor?.view ?? long
        if longIsA {
            // out = long⊥ S ᵀ = longX · (W Sᵀ)
            if let longRoot {
                let inner = ScratchMatrix(rows: k, columns: short.rows)
                product(longRoot.view, scaled.view, transposeB: true, into: inner.view, workers: workers)
                product(longX, inner.view, into: out, workers: workers)
            } else {
                product(longX, scaled.view, transposeB: true, into: out, workers: workers)
            }
        } else {
            // out = S long⊥ᵀ = (S W) · longXᵀ
            if let longRoot {
                let left = ScratchMatrix(rows: short.rows, columns: k)
                product(scaled.view, longRoot.view, into: left.view, workers: workers)
                product(left.view, longX, transposeB: true, into: out, workers: workers)
            } else {
                product(scaled.view, longX, transposeB: true, into: out, workers: workers)
            }
        }
    }

    // MARK: - SVD path

    /// Top k triplets through a thin dgesdd of a copy of x.
    static func svdTriplets(_ x: MatrixView, _ k: Int, tensor: String) throws -> Triplets {
        let r = min(x.rows, x.columns)
        let u = ScratchMatrix(rows: x.rows, columns: r)
        let vt = ScratchMatrix(rows: r, columns: x.columns)
        var s = [Double](repeating: 0, count: r)
        if r > 0 {
            guard x.allFinite else {
                throw EngineError.notFinite(tensor: tensor, what: "a task matrix has non-finite values; cannot take its SVD")
            }
            let a = ScratchMatrix(rows: x.rows, columns: x.columns)
            a.base.update(from: x.base, count: x.count)
            var jobz: CChar = 83  // "S": the first min(m, n) singular vectors
            var m = Int32(x.rows), n = Int32(x.columns), lda = Int32(x.rows), ldu = Int32(x.rows), ldvt = Int32(r)
            var info: Int32 = 0
            var iwork = [Int32](repeating: 0, count: 8 * r)
            var query = 0.0
            var lwork: Int32 = -1
            dgesdd_(&jobz, &m, &n, a.base, &lda, &s, u.base, &ldu, vt.base, &ldvt, &query, &lwork, &iwork, &info)
            lwork = Int32(query)
            let work = ScratchMatrix(rows: max(Int(lwork), 1), columns: 1)
            dgesdd_(&jobz, &m, &n, a.base, &lda, &s, u.base, &ldu, vt.base, &ldvt, work.base, &lwork, &iwork, &info)
            guard info == 0 else {
                throw EngineError.notFinite(tensor: tensor, what: "LAPACK dgesdd did not converge (info \(info))")
            }
        }
        let uk = ScratchMatrix(rows: x.rows, columns: k)
        uk.base.update(from: u.base, count: x.rows * k)
        let vk = ScratchMatrix(rows: x.columns, columns: k)
        for j in 0..<k { for c in 0..<x.columns { vk.base[j * x.columns + c] = vt.base[c * r + j] } }
        return Triplets(u: uk, s: Array(s[0..<k]), v: vk)
    }

    // MARK: - Products

    /// out = op(a) · op(b) (op = transpose when asked), the output's columns split over `workers`.
    static func product(_ a: MatrixView, _ b: MatrixView, transposeA: Bool = false, transposeB: Bool = false,
                        into out: MatrixView, workers: Int) {
        let k = transposeA ? a.rows : a.columns
        precondition(k == (transposeB ? b.columns : b.rows) && out.rows == (transposeA ? a.columns : a.rows)
                     && out.columns == (transposeB ? b.rows : b.columns))
        guard out.count > 0 else { return }
        guard k > 0 else { out.base.update(repeating: 0, count: out.count); return }
        // One slice per worker when the product is big enough to pay for the hand-off.
        let parts = out.rows * out.columns * k >= 1 << 22 ? max(1, min(workers, out.columns / 64)) : 1
        DispatchQueue.concurrentPerform(iterations: parts) { i in
            let start = out.columns * i / parts, n = out.columns * (i + 1) / parts - start
            let bStart = transposeB ? b.base + start : b.base + start * b.rows
            cblas_dgemm(CblasColMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(out.rows), Int32(n), Int32(k), 1, a.base, Int32(a.rows), bStart, Int32(b.rows),
                        0, out.base + start * out.rows, Int32(out.rows))
        }
    }

    /// Runs `body(i)` for i in 0..<count on up to `workers` threads; the first error is rethrown.
    static func forEach(_ count: Int, workers: Int, _ body: (Int) throws -> Void) throws {
        guard workers > 1, count > 1 else {
            for i in 0..<count { try body(i) }
            return
        }
        let failure = FirstError()
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: count) { i in
                guard !failure.isSet else { return }
                do { try box.value(i) } catch { failure.record(error) }
            }
        }
        try failure.rethrow()
    }
}

/// Carries a non-Sendable closure into `concurrentPerform` (the caller's invariant: the calls
/// touch disjoint data).
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

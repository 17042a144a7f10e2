import COpenBLAS

/// The dense algebra LoRA needs: a product through BLAS and a thin SVD through LAPACK, on row-major
/// Double matrices (a tensor's layout). Kept to one file so it can be folded into the SVD helpers
/// of the merge methods (SpectralMatrix) once both are on main.
enum LowRankAlgebra {
    /// (m×k) · (k×n), all row-major.
    static func product(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        guard m > 0, n > 0, k > 0 else { return c }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, &c, Int32(n))
        return c
    }

    /// Thin SVD of the row-major m×n matrix `a`: U (m×p, row-major), σ descending (p), Vᵀ (p×n,
    /// row-major), p = min(m, n). LAPACK is column-major, so it factorises aᵀ = V Σ Uᵀ (the same
    /// memory) and the roles of its outputs swap.
    static func svd(_ a: [Double], rows m: Int, columns n: Int, tensor: String) throws -> (u: [Double], s: [Double], vt: [Double]) {
        let p = min(m, n)
        guard p > 0 else { return ([], [], []) }
        guard a.allSatisfy(\.isFinite) else { throw EngineError.notFinite(tensor: tensor, what: "non-finite values; cannot take its SVD") }
        // Column-major n×m matrix aᵀ: its U is our V (n×p col-major = Vᵀ p×n row-major),
        // its Vᵀ is our Uᵀ (p×m col-major = U m×p row-major).
        var work = a
        var s = [Double](repeating: 0, count: p)
        var uT = [Double](repeating: 0, count: n * p)   // col-major n×p
        var vtT = [Double](repeating: 0, count: p * m)  // col-major p×m
        var jobz: CChar = 83  // "S"
        var rows = Int32(n), cols = Int32(m), lda = Int32(n), ldu = Int32(n), ldvt = Int32(p), info: Int32 = 0
        var iwork = [Int32](repeating: 0, count: 8 * p)
        var query = 0.0, lwork: Int32 = -1
        dgesdd_(&jobz, &rows, &cols, &work, &lda, &s, &uT, &ldu, &vtT, &ldvt, &query, &lwork, &iwork, &info)
        lwork = Int32(query)
        var scratch = [Double](repeating: 0, count: max(Int(lwork), 1))
        dgesdd_(&jobz, &rows, &cols, &work, &lda, &s, &uT, &ldu, &vtT, &ldvt, &scratch, &lwork, &iwork, &info)
        guard info == 0 else { throw EngineError.notFinite(tensor: tensor, what: "LAPACK dgesdd did not converge (info \(info))") }
        return (vtT, s, uT)
    }
}

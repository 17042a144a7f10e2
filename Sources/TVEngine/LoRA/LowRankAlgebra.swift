/// LoRA's dense algebra on row-major Double matrices (a tensor's layout), as views of the merge
/// methods' column-major SpectralMatrix: a row-major m×n matrix is the column-major n×m matrix
/// aᵀ, so no values are copied or transposed.
enum LowRankAlgebra {
    /// (m×k) · (k×n), all row-major: computed as bᵀ · aᵀ = (a·b)ᵀ in column-major terms.
    static func product(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
        SpectralMatrix(rows: n, columns: k, values: b).times(SpectralMatrix(rows: k, columns: m, values: a)).values
    }

    /// Thin SVD of the row-major m×n matrix `a`: U (m×p, row-major), σ descending (p), Vᵀ (p×n,
    /// row-major), p = min(m, n). aᵀ = U' Σ V'ᵀ gives a = V' Σ U'ᵀ, and the row-major U and Vᵀ
    /// are the very memory of the column-major V'ᵀ and U'.
    static func svd(_ a: [Double], rows m: Int, columns n: Int, tensor: String) throws -> (u: [Double], s: [Double], vt: [Double]) {
        let f = try SpectralMatrix(rows: n, columns: m, values: a).svd(tensor: tensor)
        return (f.vt.values, f.s, f.u.values)
    }
}

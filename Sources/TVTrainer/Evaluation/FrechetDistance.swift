import COpenBLAS
import Foundation

/// Fréchet distance between two sets of vectors (here raw pixels), each modelled as a Gaussian:
///     FD = |mu1 - mu2|² + tr(S1) + tr(S2) - 2 tr( (S1^{1/2} S2 S1^{1/2})^{1/2} )
/// The matrix square roots come from symmetric eigendecompositions (LAPACK dsyev), in Double;
/// S1^{1/2} S2 S1^{1/2} is symmetric PSD, so its root's trace is the sum of sqrt(max(λ, 0)).
public enum FrechetDistance {
    /// OpenBLAS runs single-threaded here: its threaded symmetric kernels sum in another order,
    /// and the distance must not depend on whether it is computed inside a parallel section
    /// (a weight search's candidate) or not (the report).
    public static func compute(_ a: [Float], _ b: [Float], dimension d: Int) throws -> Double {
        try BLASThreads.singleThreaded {
            let (mu1, s1) = try moments(a, dimension: d)
            let (mu2, s2) = try moments(b, dimension: d)
            return try distance(mean1: mu1, covariance1: s1, mean2: mu2, covariance2: s2, dimension: d)
        }
    }

    /// The distance between N(mu1, s1) and N(mu2, s2) (covariances d×d row-major, symmetric PSD).
    public static func distance(mean1 mu1: [Double], covariance1 s1: [Double], mean2 mu2: [Double], covariance2 s2: [Double],
                                dimension d: Int) throws -> Double {
        try BLASThreads.singleThreaded { try unscopedDistance(mean1: mu1, covariance1: s1, mean2: mu2, covariance2: s2, dimension: d) }
    }

    private static func unscopedDistance(mean1 mu1: [Double], covariance1 s1: [Double], mean2 mu2: [Double], covariance2 s2: [Double],
                                         dimension d: Int) throws -> Double {
        var meanTerm = 0.0
        for i in 0..<d { meanTerm += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]) }
        var tr1 = 0.0, tr2 = 0.0
        for i in 0..<d { tr1 += s1[i * d + i]; tr2 += s2[i * d + i] }
        let root1 = try symmetricSqrt(s1, d)
        // M = root1 · s2 · root1
        var tmp = [Double](repeating: 0, count: d * d), m = [Double](repeating: 0, count: d * d)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(d), Int32(d), 1, root1, Int32(d), s2, Int32(d), 0, &tmp, Int32(d))
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(d), Int32(d), 1, tmp, Int32(d), root1, Int32(d), 0, &m, Int32(d))
        for i in 0..<d { for j in 0..<i { let v = (m[i * d + j] + m[j * d + i]) / 2; m[i * d + j] = v; m[j * d + i] = v } }
        let eig = try eigenvalues(m, d)
        let trRoot = eig.reduce(0) { $0 + max($1, 0).squareRoot() }
        return meanTerm + tr1 + tr2 - 2 * trRoot
    }

    /// Mean and unbiased covariance (n - 1) of rows.
    static func moments(_ x: [Float], dimension d: Int) throws -> ([Double], [Double]) {
        let n = x.count / d
        guard n >= 2 else { throw TrainerError.badArgument("Fréchet distance needs at least 2 samples per set") }
        var mu = [Double](repeating: 0, count: d)
        for r in 0..<n { for j in 0..<d { mu[j] += Double(x[r * d + j]) } }
        for j in 0..<d { mu[j] /= Double(n) }
        var centered = [Double](repeating: 0, count: n * d)
        for r in 0..<n { for j in 0..<d { centered[r * d + j] = Double(x[r * d + j]) - mu[j] } }
        var cov = [Double](repeating: 0, count: d * d)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(d), Int32(d), Int32(n), 1 / Double(n - 1),
                    centered, Int32(d), centered, Int32(d), 0, &cov, Int32(d))
        return (mu, cov)
    }

    /// Eigenvalues and (column-major) eigenvectors of a symmetric matrix via dsyev.
    static func eigen(_ a: [Double], _ n: Int, vectors: Bool) throws -> ([Double], [Double]) {
        var m = a  // symmetric: row- and column-major agree
        var w = [Double](repeating: 0, count: n)
        var jobz: CChar = vectors ? 86 : 78, uplo: CChar = 85  // "V"/"N", "U"
        var nn = Int32(n), lda = Int32(n), info: Int32 = 0, lwork: Int32 = -1
        var query = 0.0
        dsyev_(&jobz, &uplo, &nn, &m, &lda, &w, &query, &lwork, &info)
        lwork = Int32(query)
        var work = [Double](repeating: 0, count: Int(lwork))
        dsyev_(&jobz, &uplo, &nn, &m, &lda, &w, &work, &lwork, &info)
        guard info == 0 else { throw TrainerError.badArgument("LAPACK dsyev failed (info \(info))") }
        return (w, m)
    }

    static func eigenvalues(_ a: [Double], _ n: Int) throws -> [Double] { try eigen(a, n, vectors: false).0 }

    /// S^{1/2} = V diag(sqrt(max(λ,0))) V^T for symmetric PSD S.
    static func symmetricSqrt(_ s: [Double], _ n: Int) throws -> [Double] {
        let (w, v) = try eigen(s, n, vectors: true)
        var out = [Double](repeating: 0, count: n * n)
        for k in 0..<n {
            let r = max(w[k], 0).squareRoot()
            if r == 0 { continue }
            let col = k * n  // column k of column-major V
            for i in 0..<n { let vi = v[col + i] * r; for j in 0..<n { out[i * n + j] += vi * v[col + j] } }
        }
        return out
    }
}

import Foundation
import COpenBLAS
import TVStorage

/// Directions from a training trajectory (Li et al. 2018, sec. 7): the top two principal
/// directions of the differences delta_i = checkpoint_i - base (base = the final model), as
/// sklearn's PCA finds them (centred on the mean difference).
///
/// Gram-matrix trick: with X the n x P matrix of differences and Xc = X centred over rows, the
/// principal directions are d_k = Xc^T u_k / sqrt(lambda_k) for the eigenpairs of the n x n centred
/// Gram matrix Xc Xc^T = C G C (C = I - 11^T/n, G_ij = delta_i . delta_j). Only G is accumulated
/// (one streaming pass, one tensor of each checkpoint at a time), so memory is O(n^2) plus the
/// largest tensor times n; the eigenproblem is LAPACK dsyev. Since u_k is orthogonal to 1 for
/// lambda_k > 0, d_k = sum_i (u_k[i] / sqrt(lambda_k)) delta_i: a combination of the checkpoints,
/// which is how the landscape's family builds models on the plane.
public struct TrajectoryPCA: Sendable, Equatable {
    /// Number of checkpoints (rows of X).
    public var count: Int
    /// d_k = sum_i coefficients[k][i] * delta_i, unit length, for k = 0 (1st PC) and 1 (2nd PC).
    public var coefficients: [[Double]]
    /// sklearn's explained_variance_ (lambda_k / (n - 1)) and explained_variance_ratio_ for the two PCs.
    public var explainedVariance: [Double]
    public var explainedVarianceRatio: [Double]
    /// Each checkpoint's coordinates on the plane: (delta_i . d_1, delta_i . d_2).
    public var projections: [[Double]]

    /// Accumulates G_ij = delta_i . delta_j over every arithmetic tensor, in Double, in chunks.
    public static func gram(base: any CheckpointReader, checkpoints: [any CheckpointReader]) throws -> [Double] {
        let n = checkpoints.count
        var g = [Double](repeating: 0, count: n * n)
        let chunk = 1 << 15
        var block = [Double](repeating: 0, count: n * chunk)
        for info in base.tensors where info.dtype.supportsArithmetic {
            let t0 = try base.tensor(named: info.name).floats()
            let ts = try checkpoints.map { try $0.tensor(named: info.name).floats() }
            var start = 0
            while start < t0.count {
                let len = min(chunk, t0.count - start)
                for i in 0..<n {
                    for j in 0..<len { block[i * len + j] = Double(ts[i][start + j]) - Double(t0[start + j]) }
                }
                // G += B B^T (upper triangle, row-major).
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(n), Int32(len), 1, block, Int32(len), 1, &g, Int32(n))
                start += len
            }
        }
        for i in 0..<n { for j in 0..<i { g[i * n + j] = g[j * n + i] } }
        return g
    }

    /// The two leading principal directions from the (uncentred) Gram matrix of the differences.
    public static func fromGram(_ g: [Double], count n: Int) throws(SweepModelError) -> TrajectoryPCA {
        // Centring removes one dimension: n differences span at most n - 1 principal directions.
        guard n >= 3 else { throw .degenerate("PCA directions need at least three trajectory checkpoints besides the base (centred PCA of n spans n - 1 directions)") }
        // Centre: Gc = C G C.
        var rowMean = [Double](repeating: 0, count: n), all = 0.0
        for i in 0..<n { for j in 0..<n { rowMean[i] += g[i * n + j] / Double(n) } }
        for i in 0..<n { all += rowMean[i] / Double(n) }
        var gc = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { gc[i * n + j] = g[i * n + j] - rowMean[i] - rowMean[j] + all } }
        let (w, v) = try symmetricEigen(gc, n)  // ascending eigenvalues, column-major vectors
        let total = w.reduce(0) { $0 + max($1, 0) }
        let top = [n - 1, n - 2]
        guard total > 0, w[n - 2] > 1e-12 * w[n - 1] else {
            throw .degenerate("the trajectory spans fewer than two directions (checkpoints collinear or equal): no PCA plane")
        }
        var coefficients: [[Double]] = []
        for k in top {
            var a = (0..<n).map { v[k * n + $0] / w[k].squareRoot() }
            // Sign convention (sklearn's svd_flip is arbitrary too): largest |coefficient| positive.
            if let m = a.max(by: { abs($0) < abs($1) }), m < 0 { a = a.map { -$0 } }
            coefficients.append(a)
        }
        let projections = (0..<n).map { i in
            coefficients.map { a in (0..<n).reduce(0.0) { $0 + g[i * n + $1] * a[$1] } }
        }
        return TrajectoryPCA(count: n, coefficients: coefficients,
                             explainedVariance: top.map { w[$0] / Double(n - 1) },
                             explainedVarianceRatio: top.map { max(w[$0], 0) / total }, projections: projections)
    }

    /// Eigenvalues (ascending) and column-major eigenvectors of a symmetric n x n matrix (dsyev).
    static func symmetricEigen(_ a: [Double], _ n: Int) throws(SweepModelError) -> ([Double], [Double]) {
        var m = a
        var w = [Double](repeating: 0, count: n)
        var jobz: CChar = 86, uplo: CChar = 85  // "V", "U"
        var nn = Int32(n), lda = Int32(n), info: Int32 = 0, lwork: Int32 = -1
        var query = 0.0
        dsyev_(&jobz, &uplo, &nn, &m, &lda, &w, &query, &lwork, &info)
        lwork = max(Int32(query), 1)
        var work = [Double](repeating: 0, count: Int(lwork))
        dsyev_(&jobz, &uplo, &nn, &m, &lda, &w, &work, &lwork, &info)
        guard info == 0 else { throw .degenerate("LAPACK dsyev failed on the trajectory Gram matrix (info \(info))") }
        return (w, m)
    }
}

/// Plane coordinates (x, y) along the two principal directions → checkpoint weights.
public struct PCAMapping: PointMapping, Hashable {
    public let coefficients: [[Double]]
    public func combination(at c: [Double]) -> ModelCombination {
        ModelCombination(taskWeights: (0..<coefficients[0].count).map { c[0] * coefficients[0][$0] + c[1] * coefficients[1][$0] })
    }
}

public enum TrajectoryDirections {
    /// Opens the final model (the plane's origin) and the trajectory checkpoints, computes the PCA
    /// and builds the family and plane (Euclidean coordinates along d_1, d_2).
    public static func prepare(base path: String, checkpoints paths: [String], open: OpenOptions = OpenOptions()) throws
        -> (family: LinearFamily, plane: LandscapePlane, pca: TrajectoryPCA) {
        let base = try Checkpoints.open(path, options: open)
        let readers = try paths.map { try Checkpoints.open($0, options: open) }
        try LinearFamily.checkCompatible(base: base, models: readers)
        let pca = try TrajectoryPCA.fromGram(try TrajectoryPCA.gram(base: base, checkpoints: readers), count: readers.count)
        let mapping = PCAMapping(coefficients: pca.coefficients)
        let family = try LinearFamily(base: base, models: readers, mapping: mapping)
        let labels = InterpolationLine.labels(for: [path] + paths)
        let pct = pca.explainedVarianceRatio.map { String(format: "%.1f%%", $0 * 100) }
        let plane = LandscapePlane(
            basis: .coefficients, axisNames: ["x", "y"],
            axisDescriptions: ["x: 1st PC of the trajectory (\(pct[0]) of variance), Euclidean units from the base",
                               "y: 2nd PC of the trajectory (\(pct[1]) of variance), Euclidean units from the base"],
            mapping: mapping,
            markers: [PlaneMarker(label: labels[0], x: 0, y: 0)]
                + pca.projections.enumerated().map { PlaneMarker(label: labels[$0.offset + 1], x: $0.element[0], y: $0.element[1]) },
            settings: ["basis": "pca", "explained_variance_ratio": pca.explainedVarianceRatio.map { "\($0)" }.joined(separator: ","),
                       "pca_coefficients": pca.coefficients.map { $0.map { "\($0)" }.joined(separator: ",") }.joined(separator: ";")])
        return (family, plane, pca)
    }
}

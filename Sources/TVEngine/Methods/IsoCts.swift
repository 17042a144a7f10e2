/// Iso-CTS ("No Task Left Behind", Marczak et al., arXiv 2502.04959: common and
/// task-specific subspaces), per matrix weight (2-D, and conv weights as (out, in·kh·kw) unless
/// `conv` 0), with T models and r = min(rows, columns):
///   1. sizes (the reference code's): k = floor(r · common_space_fraction);
///      per task s = round((r - k) / T) (half to even), k ← r - T·s (s lowered by one if k < 0)
///   2. common subspace: Σ_i tau_i = U S Vᵀ, keep the top k triplets U_c, S_c, V_cᵀ
///   3. task-specific: each task's residual off the common subspace, tau_i - U_c U_cᵀ tau_i, keeps
///      its top s triplets
///   4. U = [U_1 … U_T, U_c], Vᵀ likewise, orthogonalised as P Qᵀ (Procrustes); the spectrum is made
///      isotropic: every singular value = the mean of the r kept ones
///   5. theta + alpha · U⊥ (mean S) V⊥ᵀ
/// Other tensors: theta + alpha · mean_i tau_i (the reference code's fallback).
struct IsoCts: MergeMethod {
    let name = "iso_cts"
    let summary = "Iso-CTS: common subspace of the summed task matrix plus task-specific subspaces, isotropic spectrum (alpha, common_space_fraction, conv)"
    let parameters: [MethodParameter] = [SpectralShape.alpha, Self.fraction, SpectralShape.conv]
    static let fraction = MethodParameter("common_space_fraction", .number, default: 0.8, range: .leftOpen(0, 1),
                                          doc: "share of the rank given to the common subspace")

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        let alpha = try c.scalar(SpectralShape.alpha)
        let fraction = try c.scalar(Self.fraction)  // range checked up front (Merger)
        let conv = try c.flag(SpectralShape.conv)
        let models = c.modelCount
        guard let (rows, columns) = SpectralShape.matrix(c.operands.base.shape, includeConv: conv) else {
            return SpectralShape.fallback(models: models, alpha: alpha)
        }
        let (common, perTask) = Self.sizes(rank: min(rows, columns), tasks: models, fraction: fraction)
        return try SpectralShape.withBLASThreads(elements: rows * columns, workers: c.runner.workers) {
            let d = DenseTensor(c)
            let taus = (0..<models).map { SpectralMatrix(rowMajor: d.deltas[$0], rows: rows, columns: columns) }
            var sum = SpectralMatrix(rows: rows, columns: columns)
            for t in taus { for j in 0..<sum.values.count { sum.values[j] += t.values[j] } }
            let f = try sum.svd(tensor: c.name)
            let uc = f.u.leadingColumns(common)
            var us: [SpectralMatrix] = [], vts: [SpectralMatrix] = [], s: [Double] = []
            if perTask > 0 {
                let ucT = Self.transpose(uc)
                for t in taus {
                    var residual = t
                    if common > 0 {
                        let projected = uc.times(ucT.times(t))
                        for j in 0..<residual.values.count { residual.values[j] -= projected.values[j] }
                    }
                    let g = try residual.svd(tensor: c.name)
                    us.append(g.u.leadingColumns(perTask))
                    vts.append(g.vt.leadingRows(perTask))
                    s += g.s[0..<perTask]
                }
            }
            us.append(uc)
            vts.append(f.vt.leadingRows(common))
            s += f.s[0..<common]
            let u = try SpectralMatrix.horizontal(us, rows: rows).nearestOrthogonal(tensor: c.name)
            let vt = try SpectralMatrix.vertical(vts, columns: columns).nearestOrthogonal(tensor: c.name)
            let mean = s.isEmpty ? 0 : s.reduce(0, +) / Double(s.count)
            let merged = u.times(vt).rowMajor
            return .precomputed((0..<d.count).map { d.base[$0] + alpha * mean * merged[$0] })
        }
    }

    /// (common dimensions, dimensions per task) with common + tasks · perTask = rank.
    static func sizes(rank r: Int, tasks: Int, fraction: Double) -> (Int, Int) {
        let initial = Int((Double(r) * fraction).rounded(.down))
        var perTask = Int((Double(r - initial) / Double(tasks)).rounded(.toNearestOrEven))
        if r - perTask * tasks < 0 { perTask = r / tasks }
        return (r - perTask * tasks, perTask)
    }

    static func transpose(_ m: SpectralMatrix) -> SpectralMatrix {
        var t = SpectralMatrix(rows: m.columns, columns: m.rows)
        for c in 0..<m.columns { for r in 0..<m.rows { t[c, r] = m[r, c] } }
        return t
    }
}

/// TSV-Merge ("Task Singular Vectors", Gargiulo et al., CVPR 2025, arXiv 2412.00081), per
/// matrix weight (2-D, and conv weights as (out, in·kh·kw) unless `conv` 0), with T models and
/// r = min(rows, columns):
///   1. low-rank task matrices: tau_i = U_i S_i V_iᵀ, keep the top k = max(1, floor(r / T))
///      singular triplets of each (the reference code's R // N_tasks; the max keeps a layer with
///      r < T from vanishing, where the reference keeps nothing)
///   2. concatenate: U = [U_1,k … U_T,k] (rows × Tk), S = diag(S_1,k … S_T,k), Vᵀ = [V_1,kᵀ; …]
///   3. decorrelate by orthogonal Procrustes: U⊥ = P Qᵀ from U = P Σ Qᵀ, likewise V⊥ᵀ
///   4. theta + alpha · U⊥ S V⊥ᵀ
/// Other tensors: theta + alpha · mean_i tau_i (the reference code's fallback for non-matrices).
struct TsvMerge: MergeMethod {
    let name = "tsv"
    let summary = "TSV-Merge: per matrix, top 1/T singular triplets of each task, decorrelated by Procrustes (SVD; alpha, conv)"
    let parameters: [MethodParameter] = [SpectralShape.alpha, SpectralShape.conv]

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        let alpha = try c.scalar(SpectralShape.alpha)
        let conv = try c.flag(SpectralShape.conv)
        let models = c.modelCount
        guard let (rows, columns) = SpectralShape.matrix(c.operands.base.shape, includeConv: conv) else {
            return SpectralShape.fallback(models: models, alpha: alpha)
        }
        return try SpectralShape.withBLASThreads(elements: rows * columns, workers: c.runner.workers) {
            let d = DenseTensor(c)
            let k = max(1, min(rows, columns) / models)
            var us: [SpectralMatrix] = [], vts: [SpectralMatrix] = [], s: [Double] = []
            for i in 0..<models {
                let f = try SpectralMatrix(rowMajor: d.deltas[i], rows: rows, columns: columns).svd(tensor: c.name)
                us.append(f.u.leadingColumns(k))
                vts.append(f.vt.leadingRows(k))
                s += f.s[0..<k]
            }
            let u = try SpectralMatrix.horizontal(us, rows: rows).nearestOrthogonal(tensor: c.name)
            let vt = try SpectralMatrix.vertical(vts, columns: columns).nearestOrthogonal(tensor: c.name)
            let merged = u.times(vt, columnScale: s).rowMajor
            return .precomputed((0..<d.count).map { d.base[$0] + alpha * merged[$0] })
        }
    }
}

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
///
/// Computed on the tensor's memory as it lies: the row-major rows × columns tau is the
/// column-major tau_iᵀ, and every step above commutes with transposition (the SVD of tauᵀ swaps U
/// and V), so the column-major result is the row-major output. The T truncated SVDs, and then
/// the two Procrustes factors, run on the merge's workers at once; U⊥ S V⊥ᵀ is one product with
/// the longer side's factor left implicit (SpectralKernels.polarProduct).
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
        let workers = c.runner.workers
        return try SpectralShape.withBLASThreads {
            let d = DenseTensor(c)
            try SpectralShape.requireFinite(d, tensor: c.name, workers: workers)
            let k = max(1, min(rows, columns) / models)
            var parts = [SpectralKernels.Triplets?](repeating: nil, count: models)
            try SpectralKernels.forEach(models, workers: workers) { i in
                let tau = MatrixView(base: d.deltas[i], rows: columns, columns: rows)
                let t = try SpectralKernels.topTriplets(tau, k, workers: 1, tensor: c.name)
                SpectralShape.store(t, at: i, in: &parts)
            }
            let triplets = parts.map { $0! }
            let u = SpectralShape.concatenate(triplets.map(\.u))
            let v = SpectralShape.concatenate(triplets.map(\.v))
            let out = ScratchMatrix(rows: columns, columns: rows)
            try SpectralKernels.polarProduct(u.view, v.view, scale: triplets.flatMap(\.s).map { alpha * $0 },
                                             into: out.view, workers: workers, tensor: c.name)
            SpectralShape.addBase(d, to: out, workers: workers)
            return .elementwise(ScratchOutput(values: out))
        }
    }
}

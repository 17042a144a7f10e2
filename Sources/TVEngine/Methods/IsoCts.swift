import COpenBLAS

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
        let workers = c.runner.workers
        return try SpectralShape.withBLASThreads {
            let d = DenseTensor(c)
            // Column-major views of the row-major tensors are the transposes (see TsvMerge): the
            // paper's left singular vectors (the output side, `rows`) are these views' right ones.
            let taus = d.deltas.map { MatrixView(base: $0, rows: columns, columns: rows) }
            let sum = try SpectralShape.sumOfDeltas(d, rows: columns, columns: rows, tensor: c.name, workers: workers)
            let f = try SpectralKernels.topTriplets(sum.view, common, workers: workers, tensor: c.name)
            var parts = [SpectralKernels.Triplets?](repeating: nil, count: perTask > 0 ? models : 0)
            try SpectralKernels.forEach(parts.count, workers: workers) { i in
                // tau_i - U_c U_cᵀ tau_i, transposed: tau_iᵀ - (tau_iᵀ U_c) U_cᵀ.
                let residual = ScratchMatrix(rows: columns, columns: rows)
                residual.base.update(from: taus[i].base, count: d.count)
                if common > 0 {
                    let coefficients = ScratchMatrix(rows: columns, columns: common)
                    SpectralKernels.product(taus[i], f.v.view, into: coefficients.view, workers: 1)
                    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, Int32(columns), Int32(rows), Int32(common), -1,
                                coefficients.base, Int32(columns), f.v.base, Int32(rows), 1, residual.base, Int32(columns))
                }
                let g = try SpectralKernels.topTriplets(residual.view, perTask, workers: 1, tensor: c.name)
                SpectralShape.store(g, at: i, in: &parts)
            }
            let triplets = parts.map { $0! } + [f]
            let u = SpectralShape.concatenate(triplets.map(\.u))
            let v = SpectralShape.concatenate(triplets.map(\.v))
            let s = triplets.flatMap(\.s)
            let mean = s.isEmpty ? 0 : s.reduce(0, +) / Double(s.count)
            let out = ScratchMatrix(rows: columns, columns: rows)
            try SpectralKernels.polarProduct(u.view, v.view, scale: Array(repeating: alpha * mean, count: s.count),
                                             into: out.view, workers: workers, tensor: c.name)
            SpectralShape.addBase(d, to: out, workers: workers)
            return .elementwise(ScratchOutput(values: out))
        }
    }

    /// (common dimensions, dimensions per task) with common + tasks · perTask = rank.
    static func sizes(rank r: Int, tasks: Int, fraction: Double) -> (Int, Int) {
        let initial = Int((Double(r) * fraction).rounded(.down))
        var perTask = Int((Double(r - initial) / Double(tasks)).rounded(.toNearestOrEven))
        if r - perTask * tasks < 0 { perTask = r / tasks }
        return (r - perTask * tasks, perTask)
    }
}

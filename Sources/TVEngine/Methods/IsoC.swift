/// Iso-C ("No Task Left Behind: Isotropic Model Merging", Marczak et al., arXiv 2502.04959),
/// per matrix weight (2-D, and conv weights as (out, in·kh·kw) unless `conv` 0):
///   Delta = Σ_i tau_i = U S Vᵀ (thin SVD); S_iso = mean(diag S) · I (flattened spectrum);
///   theta + alpha · U S_iso Vᵀ
/// Other tensors: theta + alpha · mean_i tau_i (the reference code's fallback for non-matrices).
struct IsoC: MergeMethod {
    let name = "iso_c"
    let summary = "Iso-C: SVD of the summed task matrix with its singular values replaced by their mean (alpha, conv)"
    let parameters: [MethodParameter] = [SpectralShape.alpha, SpectralShape.conv]

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        let alpha = try c.scalar(SpectralShape.alpha)
        let conv = try c.flag(SpectralShape.conv)
        guard let (rows, columns) = SpectralShape.matrix(c.operands.base.shape, includeConv: conv) else {
            return SpectralShape.fallback(models: c.modelCount, alpha: alpha)
        }
        return try SpectralShape.withBLASThreads(elements: rows * columns, workers: c.runner.workers) {
            let d = DenseTensor(c)
            var sum = [Double](repeating: 0, count: d.count)
            for t in d.deltas { for j in 0..<d.count { sum[j] += t[j] } }
            let f = try sum.withUnsafeBufferPointer {
                try SpectralMatrix(rowMajor: $0.baseAddress!, rows: rows, columns: columns).svd(tensor: c.name)
            }
            let mean = f.s.reduce(0, +) / Double(f.s.count)
            let merged = f.u.times(f.vt).rowMajor
            return .precomputed((0..<d.count).map { d.base[$0] + alpha * mean * merged[$0] })
        }
    }
}

/// Iso-C ("No Task Left Behind: Isotropic Model Merging", Marczak et al., arXiv 2502.04959),
/// per matrix weight (2-D, and conv weights as (out, in·kh·kw) unless `conv` 0):
///   Delta = Σ_i tau_i = U S Vᵀ (thin SVD); S_iso = mean(diag S) · I (flattened spectrum);
///   theta + alpha · U S_iso Vᵀ
/// Other tensors: theta + alpha · mean_i tau_i (the reference code's fallback for non-matrices).
///
/// U Vᵀ is Delta's polar factor, and only it and the singular values are needed: through the
/// smaller Gram matrix when Delta is well conditioned, else dgesdd (SpectralKernels.polar). Like
/// TSV it works on the row-major tensor as the column-major Deltaᵀ (polar(Deltaᵀ) = polar(Delta)ᵀ).
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
        let workers = c.runner.workers
        return try SpectralShape.withBLASThreads {
            let d = DenseTensor(c)
            let sum = try SpectralShape.sumOfDeltas(d, rows: columns, columns: rows, tensor: c.name, workers: workers)
            let (polar, s, _) = try SpectralKernels.polar(sum.view, workers: workers, tensor: c.name)
            let scale = alpha * s.reduce(0, +) / Double(s.count)
            let (out, base) = (SendablePointer(polar.base), SendablePointer(d.base))
            SpectralShape.forRanges(d.count, workers: workers) { range in
                for j in range { out.pointer[j] = base.pointer[j] + scale * out.pointer[j] }
            }
            return .elementwise(ScratchOutput(values: polar))
        }
    }
}

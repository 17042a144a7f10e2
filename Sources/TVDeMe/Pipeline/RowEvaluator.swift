import Foundation
import TVTrainer

/// Evaluates the report's rows on the report set (never used by any search): per-image held-out
/// epsilon-MSE, paired comparisons against the pretrained row, and Fréchet distances over the
/// sampling seeds. Each row also carries its search-set error (for tuning defaults; the report
/// never compares on it).
struct RowEvaluator {
    let reportSet: EvaluationSet
    let searchSet: EvaluationSet
    let ranges: [TimestepRange]
    let reference: ImageDataset
    let options: DeMeOptions
    let sampler: SampleMetrics

    func row(_ name: String, _ detail: String, model: any Denoiser, weights: [Double]? = nil,
             pretrained: ReportRow?) throws -> ReportRow {
        let model = Self.halves(model)
        let e = try HeldOutErrors(model, on: reportSet, ranges: ranges, schedule: sampler.schedule)
        var fd: MeanAndSpread?
        if !options.frechetSeeds.isEmpty {
            fd = MeanAndSpread(try options.frechetSeeds.map { seed in
                try sampler.frechet(model, reference: reference, samples: options.frechetSamples, seed: seed)
            })
        }
        let onSearchSet = try HeldOutErrors(model, on: searchSet, ranges: ranges, schedule: sampler.schedule).mean
        var row = ReportRow(name: name, detail: detail, weights: weights, perImage: e.perImage,
                            perImagePerRange: e.perImagePerRange, frechet: fd, searchSetMSE: onSearchSet)
        if let pretrained { try row.compare(toPretrained: pretrained) }
        return row
    }

    /// A model (or an ensemble's members) is evaluated in two data-parallel halves, always, so both
    /// cores work on the report and its numbers do not depend on --jobs. The MLP's rows do not
    /// depend on the batch split where its products run in the tiled kernel (MatrixProduct), so
    /// it is split only there: elsewhere (OpenBLAS) it keeps whole batches, as before. The halves
    /// run a frozen copy (the MLP's time conditioning looked up per timestep: the Fréchet
    /// samples' 50 DDIM steps × 500 rows save the time MLP and per-block projections; same bits).
    static func halves(_ m: any Denoiser) -> any Denoiser {
        if let t = m as? any TrainableDenoiser,
           t.config.architecture == UNet2DModel.architecture || MatrixProduct.tiled {
            return DataParallelDenoiser(frozen: t)
        }
        if let e = m as? EnsembleDenoiser, let members = try? EnsembleDenoiser(members: e.members.map(halves), ranges: e.ranges) {
            return members
        }
        return m
    }
}

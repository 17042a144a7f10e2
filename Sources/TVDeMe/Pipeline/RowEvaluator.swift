import Foundation
import TVTrainer

/// Evaluates the report's rows on the report set (never used by any search): per-image held-out
/// epsilon-MSE, paired comparisons against the pretrained row, and Fréchet distances over the
/// sampling seeds.
struct RowEvaluator {
    let reportSet: EvaluationSet
    let ranges: [TimestepRange]
    let reference: ImageDataset
    let options: DeMeOptions
    let sampler: SampleMetrics

    func row(_ name: String, _ detail: String, model: any Denoiser, weights: [Double]? = nil,
             pretrained: ReportRow?) throws -> ReportRow {
        let e = try HeldOutErrors(model, on: reportSet, ranges: ranges, schedule: sampler.schedule)
        var fd: MeanAndSpread?
        if !options.frechetSeeds.isEmpty {
            fd = MeanAndSpread(try options.frechetSeeds.map { seed in
                try sampler.frechet(model, reference: reference, samples: options.frechetSamples, seed: seed)
            })
        }
        var row = ReportRow(name: name, detail: detail, weights: weights, perImage: e.perImage,
                                  perImagePerRange: e.perImagePerRange, frechet: fd)
        if let pretrained { try row.compare(toPretrained: pretrained) }
        return row
    }
}

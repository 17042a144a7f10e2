/// One row of the DeMe report: a model's held-out epsilon-MSE (overall and per timestep range),
/// paired comparisons against the pretrained model, and the Fréchet distance of its samples.
public struct ReportRow: Codable, Sendable {
    public var name: String
    /// How the row was made (steps, techniques, weights), for the report.
    public var detail: String
    public var weights: [Double]?
    /// Held-out epsilon-MSE averaged uniformly over t (mean over the report set's items).
    public var heldOutMSE: Double
    /// Per timestep range, same order as the report's ranges.
    public var perRangeMSE: [Double]
    /// The same error on the search set (held-out set 1, which the weight search used): for
    /// choosing defaults by measurement without ever looking at the report set.
    public var searchSetMSE: Double?
    /// Per-image errors (the unit of the paired comparisons), overall and per range.
    public var perImage: [Double]
    public var perImagePerRange: [[Double]]
    /// This row minus pretrained, paired over images (nil for the pretrained row itself).
    public var versusPretrained: PairedComparison?
    public var perRangeVersusPretrained: [PairedComparison]?
    /// Fréchet distance of samples over several sampling seeds (nil when not computed).
    public var frechet: MeanAndSpread?

    public init(name: String, detail: String, weights: [Double]? = nil, perImage: [Double],
                perImagePerRange: [[Double]], frechet: MeanAndSpread? = nil, searchSetMSE: Double? = nil) {
        self.name = name
        self.detail = detail
        self.weights = weights
        self.perImage = perImage
        self.perImagePerRange = perImagePerRange
        self.heldOutMSE = Self.mean(perImage)
        self.perRangeMSE = perImagePerRange.map(Self.mean)
        self.frechet = frechet
        self.searchSetMSE = searchSetMSE
    }

    /// Fills the paired comparisons against `reference` (same images, timesteps and noise).
    public mutating func compare(toPretrained reference: ReportRow) throws(DeMeError) {
        versusPretrained = try PairedComparison(perImage, reference.perImage)
        guard perImagePerRange.count == reference.perImagePerRange.count else {
            throw .evaluationFailed("rows '\(name)' and '\(reference.name)' have different range counts")
        }
        var per: [PairedComparison] = []
        for (a, b) in zip(perImagePerRange, reference.perImagePerRange) { per.append(try PairedComparison(a, b)) }
        perRangeVersusPretrained = per
    }

    static func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
}

/// "Did model A beat model B": the paired held-out difference and, when available, the Fréchet
/// distances over the same sampling seeds.
public struct Verdict: Codable, Sendable {
    public var model: String
    public var baseline: String
    public var heldOut: PairedComparison
    /// Paired over sampling seeds (same seeds, same initial noise); nil without Fréchet distances.
    public var frechet: PairedComparison?

    public init(model: ReportRow, baseline: ReportRow) throws(DeMeError) {
        self.model = model.name
        self.baseline = baseline.name
        heldOut = try PairedComparison(model.perImage, baseline.perImage)
        if let a = model.frechet, let b = baseline.frechet, a.values.count >= 2, a.values.count == b.values.count {
            frechet = try PairedComparison(a.values, b.values)
        }
    }

    /// One plain sentence for the report.
    public var sentence: String {
        let d = heldOut
        var s: String
        let amount = "\(Fmt.sci(d.meanDifference)) ± \(Fmt.se(d.standardError)) SE over \(d.count) images, z = \(Fmt.fixed(d.zScore, 1))"
        if d.aBeatsB() {
            s = "\(model) beat \(baseline) on held-out eps-MSE by more than 2 SE (\(amount))."
        } else if d.bBeatsA() {
            s = "\(model) did NOT beat \(baseline): it was worse on held-out eps-MSE by more than 2 SE (\(amount))."
        } else {
            s = "\(model) did NOT beat \(baseline) on held-out eps-MSE: the difference is within 2 SE (\(amount))."
        }
        if let f = frechet {
            let fd = "Δ = \(Fmt.fixed(f.meanDifference, 4)) ± \(Fmt.fixed(f.standardError, 4)) SE over \(f.count) seeds"
            s += f.aBeatsB() ? " Fréchet distance: lower by more than 2 SE (\(fd))."
                : (f.bBeatsA() ? " Fréchet distance: higher by more than 2 SE (\(fd))." : " Fréchet distance: no difference beyond 2 SE (\(fd)).")
        }
        return s
    }
}

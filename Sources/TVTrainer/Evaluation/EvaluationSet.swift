/// A fixed set of (x0, t, noise) triples for held-out epsilon-MSE: `repeats` triples per image,
/// with t stratified over [0, T) — triple k of every image has t ~ U[kT/repeats, (k+1)T/repeats) —
/// so the mean over triples estimates the uniform-over-t error, and every image has triples in
/// each of `n` equal timestep ranges whenever n divides `repeats` (per-image values per range give
/// paired standard errors). Built from a seed alone: the same seed gives the same triples.
public struct EvaluationSet: Sendable {
    public let dimension: Int
    public let imageCount: Int
    public let repeats: Int
    public let timesteps: Int
    /// [imageCount·repeats, dimension], image-major (triples of image i are rows i·repeats ..< (i+1)·repeats).
    public let x0: [Float]
    public let eps: [Float]
    public let t: [Int]
    public let seed: UInt64

    public var count: Int { t.count }

    public init(data: ImageDataset, timesteps T: Int = 1000, repeats: Int = 16, seed: UInt64 = 0) {
        precondition(repeats >= 1 && repeats <= T)
        var rng = TrainerRandom.derived(seed: seed, stream: 0xE7A1)
        let D = data.dimension
        var x = [Float](), ts = [Int]()
        x.reserveCapacity(data.count * repeats * D)
        for i in 0..<data.count {
            let row = data.image(i)
            for k in 0..<repeats {
                x.append(contentsOf: row)
                ts.append(rng.int(in: (k * T / repeats)..<((k + 1) * T / repeats)))
            }
        }
        dimension = D
        imageCount = data.count
        self.repeats = repeats
        timesteps = T
        x0 = x
        t = ts
        eps = rng.normals(x.count)
        self.seed = seed
    }
}

/// Per-triple epsilon-MSE of one denoiser on an `EvaluationSet`, with the aggregates DeMe reports.
public struct EpsilonMSEResult: Sendable {
    public let set: EvaluationSet
    /// Mean squared error over the D values of each triple.
    public let perTriple: [Double]

    /// Per-image mean over all its triples (uniform over t).
    public var perImage: [Double] { perImage(in: nil) }

    /// Per-image mean over the triples whose t lies in `range` (nil: all). Images without a triple
    /// in the range are skipped (never happens when the range count divides `repeats`).
    public func perImage(in range: TimestepRange?) -> [Double] {
        var out = [Double]()
        out.reserveCapacity(set.imageCount)
        for i in 0..<set.imageCount {
            var s = 0.0, n = 0
            for k in 0..<set.repeats {
                let j = i * set.repeats + k
                if range?.contains(set.t[j]) ?? true { s += perTriple[j]; n += 1 }
            }
            if n > 0 { out.append(s / Double(n)) }
        }
        return out
    }

    /// Mean over images of the per-image values (uniform over t overall).
    public var overall: Double { mean(perImage) }

    public func mean(in range: TimestepRange) -> Double { mean(perImage(in: range)) }

    private func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
}

/// Mean and standard error of paired differences a_i - b_i (same images): "beats" means by more
/// than 2 standard errors.
public struct PairedDifference: Sendable {
    public let mean: Double
    public let standardError: Double
    public init(_ a: [Double], _ b: [Double]) {
        precondition(a.count == b.count && a.count > 1)
        let d = zip(a, b).map { $0 - $1 }
        let m = d.reduce(0, +) / Double(d.count)
        let v = d.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(d.count - 1)
        mean = m
        standardError = (v / Double(d.count)).squareRoot()
    }
}

/// Exact k-th largest |value| selection in two streaming passes, for TIES/breadcrumbs trimming.
///
/// Non-negative floats order like their bit patterns, so pass 1 histograms the top 16 bits of
/// Float(|x|) (65,536 bins) and finds the bin holding the k-th largest; pass 2 histograms the low
/// 16 bits of the values in that bin, which pins the exact value. The threshold is a Float bit
/// pattern: an entry is kept when `Float(|x|).bitPattern >= threshold`. Ties at the threshold are
/// all kept (so slightly more than k entries may survive). In F64 compute the comparison uses the
/// Float-rounded magnitude.
///
/// Ranks: k ≤ 0 selects nothing (threshold above +inf); k ≥ the element count selects everything
/// (threshold 0).
public final class MagnitudeSelector: @unchecked Sendable {
    static let bins = 1 << 16
    public static let keepNothing: UInt32 = 0xFFFF_FFFF
    public static let keepAll: UInt32 = 0

    let models: Int
    let segments: Int
    /// ranks[m] = the k values requested for model m (1-based: k = 1 is the largest).
    let ranks: [[Int]]
    private var coarse: UnsafeMutablePointer<UInt32>   // [segment][model][bin]
    private var fine: UnsafeMutablePointer<UInt32>?    // [segment][model][rank][bin], allocated for pass 2
    private var total: [Int]
    private var targetBin: [[Int]]
    private var residual: [[Int]]
    let maxRanks: Int

    public init(ranks: [[Int]], segments: Int) {
        self.models = ranks.count
        self.segments = segments
        self.ranks = ranks
        self.maxRanks = max(1, ranks.map(\.count).max() ?? 1)
        coarse = .allocate(capacity: segments * models * Self.bins)
        coarse.initialize(repeating: 0, count: segments * models * Self.bins)
        total = Array(repeating: 0, count: models)
        targetBin = ranks.map { $0.map { _ in -1 } }
        residual = ranks.map { $0.map { _ in 0 } }
    }

    deinit {
        coarse.deallocate()
        fine?.deallocate()
    }

    /// Pass 1: counts the magnitudes of `count` values of model `m`.
    @inline(__always)
    public func feedCoarse<T: ComputeScalar>(segment: Int, model m: Int, _ x: UnsafePointer<T>, count: Int) {
        let h = coarse + (segment * models + m) * Self.bins
        for i in 0..<count {
            let bits = Float(Swift.abs(x[i])).bitPattern
            h[Int(bits >> 16)] &+= 1
        }
    }

    /// Between the passes: locates each rank's coarse bin. Returns false when no fine pass is
    /// needed (every rank resolved to keep-all or keep-nothing).
    public func finishCoarse() -> Bool {
        var needFine = false
        for m in 0..<models {
            var counts = [Int](repeating: 0, count: Self.bins)
            for s in 0..<segments {
                let h = coarse + (s * models + m) * Self.bins
                for b in 0..<Self.bins { counts[b] += Int(h[b]) }
            }
            total[m] = counts.reduce(0, +)
            for (r, k) in ranks[m].enumerated() {
                guard k > 0, k < total[m] else { continue }
                var above = 0
                var b = Self.bins - 1
                while above + counts[b] < k { above += counts[b]; b -= 1 }
                targetBin[m][r] = b
                residual[m][r] = k - above
                needFine = true
            }
        }
        if needFine {
            let n = segments * models * maxRanks * Self.bins
            fine = .allocate(capacity: n)
            fine!.initialize(repeating: 0, count: n)
        }
        return needFine
    }

    /// Pass 2: counts the low bits of values that fall into a target bin.
    @inline(__always)
    public func feedFine<T: ComputeScalar>(segment: Int, model m: Int, _ x: UnsafePointer<T>, count: Int) {
        guard let fine else { return }
        for (r, bin) in targetBin[m].enumerated() where bin >= 0 {
            let h = fine + ((segment * models + m) * maxRanks + r) * Self.bins
            let want = UInt32(bin)
            for i in 0..<count {
                let bits = Float(Swift.abs(x[i])).bitPattern
                if bits >> 16 == want { h[Int(bits & 0xFFFF)] &+= 1 }
            }
        }
    }

    /// Pass 1's counters of `segment`, one 65,536-bin histogram per model (for the fused kernel).
    func coarseHistograms(segment: Int) -> [UnsafeMutablePointer<UInt32>?] {
        (0..<models).map { m in coarse + (segment * models + m) * Self.bins }
    }

    /// Pass 2's target bins, [model × maxRanks + rank], -1 where there is none.
    func fineTargets() -> [Int32] {
        var t = [Int32](repeating: -1, count: models * maxRanks)
        for m in 0..<models { for (r, bin) in targetBin[m].enumerated() { t[m * maxRanks + r] = Int32(bin) } }
        return t
    }

    /// Pass 2's counters of `segment`, [model × maxRanks + rank] (empty before `finishCoarse`).
    func fineHistograms(segment: Int) -> [UnsafeMutablePointer<UInt32>?] {
        guard let fine else { return [] }
        return (0..<models * maxRanks).map { fine + (segment * models * maxRanks + $0) * Self.bins }
    }

    /// The thresholds, thresholds[m][r] for ranks[m][r].
    public func thresholds() -> [[UInt32]] {
        (0..<models).map { m in
            ranks[m].enumerated().map { r, k in
                if k <= 0 { return Self.keepNothing }
                if k >= total[m] { return Self.keepAll }
                let bin = targetBin[m][r]
                guard let fine, bin >= 0 else { return Self.keepAll }
                var counts = [Int](repeating: 0, count: Self.bins)
                for s in 0..<segments {
                    let h = fine + ((s * models + m) * maxRanks + r) * Self.bins
                    for b in 0..<Self.bins { counts[b] += Int(h[b]) }
                }
                var above = 0
                var f = Self.bins - 1
                while above + counts[f] < residual[m][r] { above += counts[f]; f -= 1 }
                return UInt32(bin) << 16 | UInt32(f)
            }
        }
    }

    /// True when |x| survives `threshold`.
    @inline(__always)
    public static func keeps<T: ComputeScalar>(_ x: T, threshold: UInt32) -> Bool {
        threshold != keepNothing && Float(Swift.abs(x)).bitPattern >= threshold
    }
}

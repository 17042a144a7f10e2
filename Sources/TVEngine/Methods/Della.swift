/// DELLA (Deep et al., arXiv 2406.11617): MAGPRUNE drops each task-vector entry with a probability
/// that falls with its magnitude rank, rescales the survivors, then merges with TIES' sign election
/// and disjoint mean (`della`) or with task arithmetic (`della_linear`), as mergekit's two methods.
///
/// Per row r of tau_i (a 2-D tensor's rows; a 1-D or 0-D tensor is one row; a k-D tensor is seen as
/// shape[0] × rest, where mergekit ranks along dimension 1 instead), with n entries ranked 1…n by
/// ascending |tau| (ties by position):
///   keep probability  p_j = (density - epsilon) + 2 epsilon (rank_j - 1)/(n - 1)   (n = 1: density)
///   kept entry        tau_j / p_j      (`rescale` 1, the paper's rule: E[tau'] = tau)
///                     or the whole tensor scaled to keep its L1 norm (`rescale_norm: l1`, mergekit)
/// Draws come from CounterRandom keyed by (seed, tensor, model, element), as DARE's, so the same
/// seed gives the same masks everywhere; with epsilon 0 the masks are exactly DARE's.
/// density ≥ 1 keeps tau_i unchanged, density ≤ 0 zeroes it (mergekit's shortcuts).
enum DellaPruning {
    static let density = MethodParameter.density(default: 1, range: .closed(0, 1), doc: "mean keep probability (1: no pruning)")
    static let epsilon = MethodParameter("epsilon", .perModelNumber, default: 0.15, range: .nonNegative,
                                         doc: "keep probabilities span density ± epsilon by magnitude rank")
    static let rescale = MethodParameter("rescale", .flag, default: 1, doc: "rescale kept entries (see rescale_norm)")
    static let rescaleNorm = MethodParameter(choice: "rescale_norm", ["inverse", "l1"], default: "inverse",
                                             doc: "inverse: divide by the keep probability (paper); l1: keep the L1 norm (mergekit)")
    static func parameters(normalizeByDefault on: Bool) -> [MethodParameter] {
        [.weight, density, epsilon, .lambda, .normalize(default: on, doc: on ? "disjoint mean (0: sum of agreeing entries)" : "divide the sum by sum_i w_i"),
         rescale, rescaleNorm]
    }

    enum RescaleNorm { case inverse, l1 }

    /// Up-front check of the global density/epsilon pairs (rules are checked per tensor in `prune`).
    static func validate(_ p: MergeParameters) throws {
        _ = try rescaleNorm(p)
        func values(_ v: ParameterValue?, _ d: Double) -> [Double] {
            switch v { case nil: return [d]; case .scalar(let x)?: return [x]; case .perModel(let xs)?: return xs }
        }
        let ds = values(p.global["density"], 1), es = values(p.global["epsilon"], 0.15)
        for i in 0..<max(ds.count, es.count) {
            let (d, e) = (ds[min(i, ds.count - 1)], es[min(i, es.count - 1)])
            if d > 0, d < 1, d - e < 0 || d + e > 1 {
                throw EngineError.badParameter(source: "parameters", reason: "DELLA needs density ± epsilon within [0, 1], got density \(d), epsilon \(e)")
            }
        }
    }

    static func rescaleNorm(_ p: MergeParameters) throws -> RescaleNorm {
        switch p.options["rescale_norm"]?.lowercased() {
        case nil, "inverse", "paper": return .inverse
        case "l1": return .l1
        case let other?: throw EngineError.badParameter(source: "rescale_norm", reason: "'\(other)' is not inverse or l1")
        }
    }

    /// Prunes every task vector of `d` in place.
    static func prune(_ d: DenseTensor, _ c: TensorContext) throws {
        let density = try c.perModel(Self.density)
        let epsilon = try c.perModel(Self.epsilon)
        let rescale = try c.flag(Self.rescale)
        let norm = try rescaleNorm(c.parameters)
        for i in 0..<d.modelCount {
            let (p, e) = (density[i], epsilon[i])
            guard p.isFinite, e.isFinite, e >= 0 else {
                throw EngineError.badParameter(source: "tensor '\(c.name)'", reason: "DELLA epsilon \(e) must be a finite number ≥ 0")
            }
            if p >= 1 { continue }
            if p <= 0 { d.deltas[i].update(repeating: 0, count: d.count); continue }
            guard p - e >= 0, p + e <= 1 else {
                throw EngineError.badParameter(source: "tensor '\(c.name)'",
                                               reason: "DELLA needs density ± epsilon within [0, 1], got density \(p), epsilon \(e)")
            }
            let key = CounterRandom.streamKey(seed: c.seed, tensor: c.name, model: i)
            pruneModel(d.deltas[i], shape: d.rowsAndColumns, density: p, epsilon: e, key: key,
                       rescale: rescale ? norm : nil)
        }
    }

    private static func pruneModel(_ tau: UnsafeMutablePointer<Double>, shape: (rows: Int, columns: Int),
                                   density: Double, epsilon: Double, key: UInt64, rescale: RescaleNorm?) {
        let n = shape.columns
        guard n > 0 else { return }
        var order = [Int](repeating: 0, count: n)
        var l1Before = 0.0, l1After = 0.0
        for r in 0..<shape.rows {
            let row = tau + r * n
            for j in 0..<n { order[j] = j }
            order.sort { a, b in
                let x = Swift.abs(row[a]), y = Swift.abs(row[b])
                return x < y || (x == y && a < b)
            }
            for (position, j) in order.enumerated() {
                let rankNorm = n > 1 ? Double(position) / Double(n - 1) : 0.5
                let keep = (density - epsilon) + rankNorm * 2 * epsilon
                let value = row[j]
                l1Before += Swift.abs(value)
                if CounterRandom.uniform(key: key, index: r * n + j) < Float(keep) {
                    row[j] = rescale == .inverse ? value / keep : value
                    l1After += Swift.abs(value)
                } else {
                    row[j] = 0
                }
            }
        }
        if rescale == .l1, l1Before >= 1e-7, l1After >= 1e-7 {
            let scale = l1Before / l1After
            for j in 0..<(shape.rows * n) { tau[j] *= scale }
        }
    }

    /// θ + λ Σ_i w_i τ'_i (÷ Σ w_i when `normalize` and the sum is not 0).
    static func sum(_ d: DenseTensor, weights w: [Double], lambda: Double, normalize: Bool) -> [Double] {
        let total = w.reduce(0, +)
        let scale = lambda / (normalize && total != 0 ? total : 1)
        var out = Array(UnsafeBufferPointer(start: d.base, count: d.count))
        for (i, t) in d.deltas.enumerated() {
            let k = scale * w[i]
            for j in 0..<d.count { out[j] += k * t[j] }
        }
        return out
    }

    /// TIES' election and disjoint mean, as tvtool's `ties` does it (SparseDeltaCombiner):
    /// s = sign(Σ w_i τ'_i) (0 → sign of the vote count); merged = Σ_agreeing w_i τ'_i / Σ_agreeing w_i.
    static func signElection(_ d: DenseTensor, weights w: [Double], lambda: Double, normalize: Bool) -> [Double] {
        var out = [Double](repeating: 0, count: d.count)
        let m = d.modelCount
        for j in 0..<d.count {
            var total = 0.0, votes = 0
            for i in 0..<m {
                let x = d.deltas[i][j]
                total += w[i] * x
                votes += x > 0 ? 1 : (x < 0 ? -1 : 0)
            }
            let sign: Double = total > 0 ? 1 : (total < 0 ? -1 : (votes > 0 ? 1 : (votes < 0 ? -1 : 0)))
            var sum = 0.0, weight = 0.0
            if sign != 0 {
                for i in 0..<m where d.deltas[i][j] * sign > 0 { sum += w[i] * d.deltas[i][j]; weight += w[i] }
            }
            let merged = normalize ? (weight != 0 ? sum / weight : 0) : sum
            out[j] = d.base[j] + lambda * merged
        }
        return out
    }
}

/// DELLA with TIES' sign election and disjoint mean (mergekit `della`; normalize defaults to 1).
struct Della: MergeMethod {
    let name = "della"
    let summary = "DELLA: magnitude-ranked drop (density ± epsilon), rescale, TIES sign election and disjoint mean"
    let parameters = DellaPruning.parameters(normalizeByDefault: true)

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }
    func validate(parameters: MergeParameters) throws { try DellaPruning.validate(parameters) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        let d = DenseTensor(c)
        try DellaPruning.prune(d, c)
        return .precomputed(DellaPruning.signElection(
            d, weights: try c.perModel(.weight), lambda: try c.scalar(.lambda),
            normalize: try c.scalar("normalize", default: 1) != 0))
    }
}

/// DELLA then task arithmetic (mergekit `della_linear`; normalize defaults to 0).
struct DellaLinear: MergeMethod {
    let name = "della_linear"
    let summary = "DELLA: magnitude-ranked drop (density ± epsilon), rescale, then task arithmetic"
    let parameters = DellaPruning.parameters(normalizeByDefault: false)

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }
    func validate(parameters: MergeParameters) throws { try DellaPruning.validate(parameters) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        let d = DenseTensor(c)
        try DellaPruning.prune(d, c)
        return .precomputed(DellaPruning.sum(
            d, weights: try c.perModel(.weight), lambda: try c.scalar(.lambda),
            normalize: try c.scalar("normalize", default: 0) != 0))
    }
}

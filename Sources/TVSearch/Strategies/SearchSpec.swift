import TVStorage

/// How a search proposes its points.
public enum SearchStrategy: String, Sendable, Codable, CaseIterable {
    /// Every point of the grid (then the refinement rounds, if any).
    case grid
    /// Coordinate descent on the grid: from the grid's centre, line-search one axis at a time over
    /// all its grid values and move to the best; stop when a full cycle over the axes does not move.
    case coord
    /// Seeded uniform samples in the grid's box [min, max] per axis.
    case random
    /// The first points of the Sobol sequence (Joe–Kuo direction numbers), scaled to the box.
    case sobol
    /// CMA-ES (Hansen's standard settings) in the box, seeded; samples are clamped to the box.
    case cmaes

    /// The default of `deme` and `search`, chosen by scripts/bench/search_strategies.sh (docs/sweeps.md).
    public static let `default` = SearchStrategy.coord

    /// Strategies whose next round depends on earlier values.
    public var isSequential: Bool { self == .coord || self == .cmaes }
}

/// What a search evaluates: the strategy, the grid (values for grid/coord, bounds for the
/// samplers), optional refinement, the evaluation budget and the seed of the random strategies.
public struct SearchSpec: Sendable, Hashable, Codable {
    public var strategy: SearchStrategy
    public var grid: GridSpec
    public var refinement: Refinement?
    /// At most this many distinct points (already recorded ones included). Required by random,
    /// sobol and cmaes.
    public var maxEvals: Int?
    public var seed: UInt64
    /// Where coord and cmaes start (one value per axis; coord snaps it to the nearest grid value
    /// of each axis). nil: the grid's centre. A warm start, e.g. a per-block search from the
    /// per-model optimum.
    public var start: [Double]?

    public init(strategy: SearchStrategy = .grid, grid: GridSpec, refinement: Refinement? = nil,
                maxEvals: Int? = nil, seed: UInt64 = 0, start: [Double]? = nil) throws(SearchError) {
        if let start {
            guard start.count == grid.axes.count, start.allSatisfy(\.isFinite) else {
                throw .invalid("the start point has \(start.count) values for \(grid.axes.count) axes")
            }
        }
        if let maxEvals, maxEvals < 1 { throw .invalid("--max-evals must be at least 1") }
        if maxEvals == nil, [.random, .sobol, .cmaes].contains(strategy) {
            throw .invalid("--strategy \(strategy.rawValue) needs --max-evals N (how many points to evaluate)")
        }
        if strategy == .sobol, grid.axes.count > Sobol.maxDimensions {
            throw .invalid("--strategy sobol supports up to \(Sobol.maxDimensions) axes (\(grid.axes.count) given)")
        }
        if strategy == .grid, maxEvals == nil, grid.pointCount > 10_000_000 {
            throw .invalid("the grid has \(grid.pointCount) points; use fewer values per axis or another --strategy")
        }
        self.strategy = strategy
        self.grid = grid
        self.refinement = refinement
        self.maxEvals = maxEvals
        self.seed = seed
        self.start = start
    }

    enum CodingKeys: String, CodingKey {
        case strategy, grid, refinement, seed, start
        case maxEvals = "max_evals"
    }

    /// How many evaluations the search costs at most, and whether that number is exact (grid,
    /// random and sobol without refinement) or a bound (coord and cmaes stop early when they
    /// converge; refinement windows shrink at the bounds and reuse points).
    public var cost: (evaluations: Int, exact: Bool) {
        var n: Int
        var exact: Bool
        switch strategy {
        case .grid: n = grid.pointCount; exact = true
        case .coord: n = grid.pointCount; exact = false
        case .random, .sobol: n = maxEvals ?? 0; exact = true
        case .cmaes: n = maxEvals ?? 0; exact = false
        }
        if let r = refinement, r.rounds > 0 {
            let perRound = grid.axes.reduce(1) { acc, a in
                let k = a.values.count > 1 ? r.pointsPerAxis : 1
                return acc.multipliedReportingOverflow(by: k).overflow ? Int.max : acc * k
            }
            let (extra, o1) = perRound.multipliedReportingOverflow(by: r.rounds)
            let (sum, o2) = n.addingReportingOverflow(extra)
            n = o1 || o2 ? Int.max : sum
            exact = false
        }
        if let m = maxEvals, m < n { n = m; exact = exact || strategy == .grid }
        return (n, exact)
    }
}

/// Errors in a search's specification or run.
public enum SearchError: BadInputError, Equatable {
    case invalid(String)
    case tooManyFailures(Int, String)
    case waitingForShards(round: Int, missing: Int, seconds: Double)

    public var description: String {
        switch self {
        case let .invalid(why): return why
        case let .tooManyFailures(n, first):
            return "stopped after \(n) failed evaluations (--max-failures \(n)); first failure: \(first)"
        case let .waitingForShards(round, missing, seconds):
            return "round \(round): \(missing) point(s) of other shards are still not recorded after waiting \(Int(seconds)) s; rerun this shard to continue"
        }
    }
}

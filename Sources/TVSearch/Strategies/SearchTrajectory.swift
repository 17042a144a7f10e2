/// The sequence of batches one search evaluates: the strategy's rounds, then the refinement
/// rounds around the best point, all within the `maxEvals` budget. Points are identified by their
/// coordinates (`SweepPoint.id`), so a point proposed again (by a later round, a finer grid, or
/// another run in the same folder) is looked up, not re-evaluated, and does not count twice.
///
/// Usage: `while let batch = t.nextBatch() { …evaluate or look up…; t.tell(valuesByID) }`.
public final class SearchTrajectory {
    public let spec: SearchSpec
    public let goal: SweepGoal
    private let proposer: any Proposer
    private var proposerDone = false
    private var refinementRound = 0
    private var round = 0
    private var lastCoordinates: [[Double]] = []
    private var consumed = Set<String>()
    private var budgetExhausted = false
    /// Best point so far (minimising the goal-signed value; ties keep the earlier point).
    public private(set) var best: (coordinates: [Double], value: Double)?
    /// Distinct points the search has used so far.
    public var evaluations: Int { consumed.count }

    public init(spec: SearchSpec, goal: SweepGoal = .minimize) {
        self.spec = spec
        self.goal = goal
        proposer = spec.makeProposer()
    }

    /// The next batch (distinct points, numbered by round and position), or nil when the search
    /// is over. Call `tell` with its values before asking again.
    public func nextBatch() -> [SweepPoint]? {
        guard !budgetExhausted else { return nil }
        var coords: [[Double]]? = nil
        if !proposerDone {
            coords = proposer.next(after: round == 0 ? nil : pendingValues)
            if coords == nil { proposerDone = true }
        }
        if coords == nil, let r = spec.refinement, refinementRound < r.rounds, let best {
            refinementRound += 1
            coords = r.grid(round: refinementRound, initial: spec.grid, best: best.coordinates).points().map(\.coordinates)
        }
        guard let coords else { return nil }
        lastCoordinates = coords
        var points: [SweepPoint] = []
        var inBatch = Set<String>()
        for c in coords {
            let id = SweepPoint.id(for: c)
            guard inBatch.insert(id).inserted else { continue }
            if !consumed.contains(id) {
                if let m = spec.maxEvals, consumed.count >= m { budgetExhausted = true; break }
                consumed.insert(id)
            }
            points.append(SweepPoint(coordinates: c, index: points.count, round: round))
        }
        round += 1
        return points
    }

    private var pendingValues: [Double] = []

    /// The values of the batch just returned, by point id (nil or missing: failed).
    public func tell(_ values: [String: Double?]) {
        let sign = goal == .minimize ? 1.0 : -1.0
        pendingValues = lastCoordinates.map { c in
            guard let v = values[SweepPoint.id(for: c)] ?? nil, v.isFinite else { return .infinity }
            return sign * v
        }
        for (c, v) in zip(lastCoordinates, pendingValues) where v.isFinite && (best == nil || v < best!.value) {
            best = (c, v)
        }
    }

    /// False when no batch can follow the last one (shards of the last round need not wait).
    public var mayContinue: Bool {
        if budgetExhausted { return false }
        if let m = spec.maxEvals, consumed.count >= m { return false }
        if !proposerDone && proposer.mayContinue { return true }
        return refinementRound < (spec.refinement?.rounds ?? 0)
    }

    /// The points of a one-round search (grid, random, sobol without refinement), for `--dry-run`.
    public static func plannedPoints(_ spec: SearchSpec) -> [SweepPoint] {
        SearchTrajectory(spec: spec).nextBatch() ?? []
    }
}

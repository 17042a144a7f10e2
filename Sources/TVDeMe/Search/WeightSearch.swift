import Foundation

/// One evaluated candidate of a weight search.
public struct SearchPoint: Codable, Sendable, Equatable {
    /// 0 for the initial grid, r for the r-th refinement.
    public let round: Int
    public let weights: [Double]
    public let objective: Double
}

/// Grid search over merge weights (one grid per weight, Cartesian product), optionally refined
/// coarse-to-fine: each refinement halves the step around the best point so far and evaluates the
/// 3^N neighbourhood {b - s, b, b + s} (clamped to the grid's bounds). Lower objective is better.
/// Candidates are evaluated by `workers` threads; the objective receives the worker index so it can
/// use per-worker buffers. Results do not depend on the number of workers.
public struct WeightSearch: Sendable {
    public let grids: [WeightGrid]
    public let refinements: Int
    public let workers: Int
    /// Refuses searches larger than this many candidates per round.
    public static let maxCandidatesPerRound = 200_000

    public init(grids: [WeightGrid], refinements: Int = 0, workers: Int = 1) throws(DeMeError) {
        guard !grids.isEmpty else { throw .invalidArgument("a weight search needs at least one weight") }
        guard refinements >= 0 else { throw .invalidArgument("refinements must be >= 0") }
        let size = grids.reduce(1.0) { $0 * Double($1.values.count) }
        guard size <= Double(Self.maxCandidatesPerRound) else {
            throw .invalidArgument("the grid has \(Int(size)) candidates (more than \(Self.maxCandidatesPerRound)); use a coarser grid with --refine")
        }
        self.grids = grids
        self.refinements = refinements
        self.workers = max(1, workers)
    }

    public struct Result: Sendable {
        /// Every evaluated point, in evaluation order (rounds, then grid order).
        public let points: [SearchPoint]
        public let best: SearchPoint
    }

    public func run(objective: @Sendable ([Double], Int) throws -> Double) throws -> Result {
        var all: [SearchPoint] = []
        var seen = Set<[Double]>()
        var best: SearchPoint?
        var candidates = Self.cartesian(grids.map(\.values))
        var steps = grids.map(\.spacing)
        for round in 0...refinements {
            let fresh = candidates.filter { seen.insert(Self.key($0)).inserted }
            let values = try evaluate(fresh, objective: objective)
            for (w, v) in zip(fresh, values) {
                let p = SearchPoint(round: round, weights: w, objective: v)
                all.append(p)
                // Strictly lower wins: ties keep the earlier point, so the result is deterministic.
                if v.isFinite, best == nil || v < best!.objective { best = p }
            }
            guard round < refinements, let b = best else { continue }
            steps = steps.map { $0 / 2 }
            candidates = Self.cartesian(zip(b.weights, zip(steps, grids)).map { (w, sg) in
                let (s, g) = sg
                return Array(Set([w - s, w, w + s].map { min(max(Self.round($0), g.lowerBound), g.upperBound) })).sorted()
            })
        }
        guard let best else { throw DeMeError.evaluationFailed("every candidate of the weight search gave a non-finite objective") }
        return Result(points: all, best: best)
    }

    private func evaluate(_ candidates: [[Double]], objective: @Sendable ([Double], Int) throws -> Double) throws -> [Double] {
        let results = ResultSlots(count: candidates.count)
        let nWorkers = min(workers, max(candidates.count, 1))
        let next = ResultSlots.Counter()
        DispatchQueue.concurrentPerform(iterations: nWorkers) { worker in
            while let i = next.take(limit: candidates.count), !results.failed {
                do { results.set(i, .success(try objective(candidates[i], worker))) }
                catch { results.set(i, .failure(error)) }
            }
        }
        return try results.values()
    }

    static func cartesian(_ axes: [[Double]]) -> [[Double]] {
        axes.reduce([[]]) { partial, axis in partial.flatMap { p in axis.map { p + [$0] } } }
    }

    static func round(_ v: Double) -> Double { (v * 1e9).rounded() / 1e9 }
    static func key(_ w: [Double]) -> [Double] { w.map(round) }
}

/// Thread-safe result slots for the parallel evaluation (each index is written by one worker).
private final class ResultSlots: @unchecked Sendable {
    private var slots: [Result<Double, any Error>?]
    private let lock = NSLock()
    private(set) var failed = false

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ r: Result<Double, any Error>) {
        lock.lock(); defer { lock.unlock() }
        slots[i] = r
        if case .failure = r { failed = true }
    }

    func values() throws -> [Double] {
        try slots.map { slot in
            switch slot {
            case .success(let v)?: return v
            case .failure(let e)?: throw e
            case nil: throw DeMeError.evaluationFailed("a candidate was skipped after another one failed")
            }
        }
    }

    final class Counter: @unchecked Sendable {
        private var value = 0
        private let lock = NSLock()
        func take(limit: Int) -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard value < limit else { return nil }
            value += 1
            return value - 1
        }
    }
}

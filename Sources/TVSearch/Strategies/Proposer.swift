import TVStorage

/// A strategy's ask/tell state. `next` gets the values of the batch it returned last (lower is
/// better; a failed point is +infinity) and returns the next batch, or nil when it is done. It
/// depends on nothing but those values and the spec, so replaying recorded values re-derives the
/// same batches (resume, shards, `sweep collect`).
protocol Proposer: AnyObject {
    func next(after values: [Double]?) -> [[Double]]?
    /// False when no batch can follow the one returned last (shards need not wait for each other).
    var mayContinue: Bool { get }
}

extension SearchSpec {
    func makeProposer() -> any Proposer {
        switch strategy {
        case .grid: return OneBatchProposer(grid.points().map(\.coordinates))
        case .coord: return CoordinateDescent(grid: grid, start: start)
        case .random:
            var rng = SplitMix64(seed: seed)
            let box = SampleBox(grid: grid)
            return OneBatchProposer((0..<(maxEvals ?? 0)).map { _ in box.place(grid.axes.map { _ in rng.uniform() }) })
        case .sobol:
            let box = SampleBox(grid: grid)
            let sobol = try! Sobol(dimensions: grid.axes.count)  // checked by SearchSpec.init
            return OneBatchProposer((0..<(maxEvals ?? 0)).map { box.place(sobol.point($0)) })
        case .cmaes: return CMAESProposer(box: SampleBox(grid: grid), seed: seed, start: start)
        }
    }
}

/// The whole search in one batch (grid, random and Sobol samples).
final class OneBatchProposer: Proposer {
    private var batch: [[Double]]?
    init(_ batch: [[Double]]) { self.batch = batch }
    func next(after values: [Double]?) -> [[Double]]? {
        defer { batch = nil }
        return values == nil ? batch : nil
    }
    var mayContinue: Bool { false }
}

/// Maps unit-cube samples to the grid's box. Coordinates are snapped to a millionth of each
/// axis' width, so point ids stay short and a replay hits the same ids exactly.
struct SampleBox {
    let lower: [Double]
    let width: [Double]

    init(grid: GridSpec) {
        lower = grid.axes.map(\.lowerBound)
        width = grid.axes.map { $0.upperBound - $0.lowerBound }
    }

    var dimensions: Int { lower.count }

    func place(_ unit: [Double]) -> [Double] {
        zip(unit, zip(lower, width)).map { u, lw in
            let (lo, w) = lw
            let snapped = (min(max(u, 0), 1) * 1e6).rounded() / 1e6
            return GridNumber.clean(lo + snapped * w, scale: max(abs(lo), abs(lo + w)))
        }
    }
}

/// Coordinate descent on the grid. Starts at the grid's centre value on every axis (or at the
/// grid values nearest a given start point); each round
/// evaluates the current point with one axis set to each of that axis' values and moves to the
/// best (strictly better than the current point, so ties keep it); axes are cycled in order, and the search stops when a full cycle
/// leaves the point where it was. Axes with one value are skipped.
final class CoordinateDescent: Proposer {
    private let axes: [[Double]]
    private var current: [Int]
    private var currentValue = Double.infinity
    private var axis = -1
    private var unmovedAxes = 0
    private var lastBatch: [[Int]] = []
    private let movable: [Int]

    init(grid: GridSpec, start: [Double]? = nil) {
        let values = grid.axes.map(\.values)
        axes = values
        if let start {
            // The nearest grid value per axis (the first of equally near ones).
            current = zip(values, start).map { vs, s in vs.indices.min { abs(vs[$0] - s) < abs(vs[$1] - s) }! }
        } else {
            current = values.map { ($0.count - 1) / 2 }
        }
        movable = values.indices.filter { values[$0].count > 1 }
    }

    func next(after values: [Double]?) -> [[Double]]? {
        if let values {
            // The first line search is the first time the start point is scored: take its value
            // as the one to beat, so a tie keeps the start instead of moving to the first tied value.
            if currentValue == .infinity, let k = lastBatch.firstIndex(of: current), !values[k].isNaN {
                currentValue = values[k]
            }
            var best = -1
            for (k, v) in values.enumerated() where v < currentValue && (best < 0 || v < values[best]) { best = k }
            if best >= 0 && lastBatch[best] != current {
                current = lastBatch[best]
                unmovedAxes = 0
            } else {
                unmovedAxes += 1
            }
            if best >= 0 { currentValue = values[best] }
        }
        if movable.isEmpty {
            guard values == nil else { return nil }
            lastBatch = [current]
            return [coordinates(current)]
        }
        if unmovedAxes >= movable.count { return nil }
        axis = (axis + 1) % movable.count
        let a = movable[axis]
        lastBatch = axes[a].indices.map { i in var p = current; p[a] = i; return p }
        return lastBatch.map(coordinates)
    }

    var mayContinue: Bool { true }

    private func coordinates(_ idx: [Int]) -> [Double] { zip(axes, idx).map { $0[$1] } }
}

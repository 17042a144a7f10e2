/// Coarse-to-fine search: after the initial grid, each round lays a finer grid around the best
/// point found so far.
///
/// Round r (r >= 1) has `pointsPerAxis` values per axis spanning best ± h_r, where h_1 is the
/// initial grid's spacing on that axis and h_{r+1} = h_r · 2 / (pointsPerAxis - 1) (the new
/// spacing), so each round zooms in by the same factor. The rounds depend only on the recorded
/// values, so a resumed run re-derives exactly the same grids.
public struct Refinement: Sendable, Hashable, Codable {
    public let rounds: Int
    public let pointsPerAxis: Int

    public init(rounds: Int, pointsPerAxis: Int = 5) throws(GridError) {
        guard rounds >= 0 && rounds <= 20 else { throw .invalid("--refine \(rounds)", "use 0 to 20 refinement rounds") }
        guard pointsPerAxis >= 3 && pointsPerAxis <= 101 else {
            throw .invalid("--refine-points \(pointsPerAxis)", "use 3 to 101 points per axis")
        }
        self.rounds = rounds
        self.pointsPerAxis = pointsPerAxis
    }

    /// Half-widths of round `round`'s window per axis (round >= 1).
    public func halfWidths(initial: GridSpec, round: Int) -> [Double] {
        initial.axes.map { axis in
            var h = axis.spacing ?? 0
            for _ in 1..<max(round, 1) { h = h * 2 / Double(pointsPerAxis - 1) }
            return h
        }
    }

    /// The grid of round `round` (>= 1) centred on `best`. An axis with a single value stays fixed.
    public func grid(round: Int, initial: GridSpec, best: [Double]) -> GridSpec {
        let hs = halfWidths(initial: initial, round: round)
        let axes = zip(best, hs).map { c, h -> AxisSpec in
            guard h > 0 else { return AxisSpec(values: [c]) }
            let n = pointsPerAxis
            return AxisSpec(values: (0..<n).map { GridNumber.clean(c - h + 2 * h * Double($0) / Double(n - 1), scale: max(abs(c), h)) })
        }
        return GridSpec(axes: axes)
    }
}

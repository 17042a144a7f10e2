/// Coarse-to-fine refinement, the one rule of `deme`, `search` and `landscape`: after the
/// strategy's own rounds, each refinement round lays a finer grid around the best point so far.
///
/// Round r (r >= 1) has `pointsPerAxis` (odd) values per axis centred on the best point, spaced
/// s / 2^r where s is the initial grid's spacing on that axis: with 3 points the neighbourhood
/// {b - s/2, b, b + s/2} (then s/4, …); with 5 points the window spans one initial step on each
/// side. Values are clamped to the grid's bounds [min, max] (duplicates dropped), so a search never
/// evaluates outside the box the user gave unless `beyondBounds` is set. The rounds depend only on
/// the recorded values, so a resumed run re-derives exactly the same grids.
public struct Refinement: Sendable, Hashable, Codable {
    public let rounds: Int
    public let pointsPerAxis: Int
    /// Let refinement windows extend past the grid's bounds (`--refine-beyond-bounds`).
    public let beyondBounds: Bool

    public init(rounds: Int, pointsPerAxis: Int = 3, beyondBounds: Bool = false) throws(GridError) {
        guard rounds >= 0 && rounds <= 20 else { throw .invalid("--refine \(rounds)", "use 0 to 20 refinement rounds") }
        guard pointsPerAxis >= 3 && pointsPerAxis <= 101 && pointsPerAxis % 2 == 1 else {
            throw .invalid("--refine-points \(pointsPerAxis)", "use an odd number from 3 to 101 (the best point is the centre)")
        }
        self.rounds = rounds
        self.pointsPerAxis = pointsPerAxis
        self.beyondBounds = beyondBounds
    }

    enum CodingKeys: String, CodingKey {
        case rounds
        case pointsPerAxis = "points_per_axis", beyondBounds = "beyond_bounds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rounds = try c.decode(Int.self, forKey: .rounds)
        pointsPerAxis = try c.decode(Int.self, forKey: .pointsPerAxis)
        beyondBounds = try c.decodeIfPresent(Bool.self, forKey: .beyondBounds) ?? false
    }

    /// Spacing of round `round`'s values per axis (round >= 1); 0 for an axis with one value.
    public func spacings(initial: GridSpec, round: Int) -> [Double] {
        initial.axes.map { ($0.spacing ?? 0) / Double(1 << min(max(round, 1), 60)) }
    }

    /// The grid of round `round` (>= 1) centred on `best`. An axis with a single value stays fixed.
    public func grid(round: Int, initial: GridSpec, best: [Double]) -> GridSpec {
        let half = pointsPerAxis / 2
        let axes = zip(zip(best, spacings(initial: initial, round: round)), initial.axes).map { cs, axis -> AxisSpec in
            let (c, h) = cs
            guard h > 0 else { return AxisSpec(values: [c]) }
            var values: [Double] = []
            for k in -half...half {
                var v = GridNumber.clean(c + Double(k) * h, scale: max(abs(c), h))
                if !beyondBounds { v = min(max(v, axis.lowerBound), axis.upperBound) }
                if !values.contains(v) { values.append(v) }
            }
            return AxisSpec(values: values)
        }
        return GridSpec(axes: axes)
    }
}

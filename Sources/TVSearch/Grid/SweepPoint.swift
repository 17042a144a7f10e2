/// One point of a sweep: its coordinates (one per axis) and a deterministic id.
///
/// The id is the coordinates' shortest decimal text joined by commas ("0.1,-0.2"): it depends on
/// nothing but the coordinates, so every shard, every rerun and every refinement round agrees on
/// it, and a point reached again by a finer round reuses its recorded result.
public struct SweepPoint: Sendable, Hashable, Codable {
    public let coordinates: [Double]
    /// Position in the enumeration of its round (row-major, first axis slowest).
    public let index: Int
    /// Refinement round that produced the point (0 = the initial grid).
    public let round: Int

    public init(coordinates: [Double], index: Int, round: Int = 0) {
        self.coordinates = coordinates
        self.index = index
        self.round = round
    }

    public var id: String { SweepPoint.id(for: coordinates) }

    public static func id(for coordinates: [Double]) -> String {
        coordinates.map { GridNumber.format(GridNumber.clean($0)) }.joined(separator: ",")
    }
}

/// A rectangular grid: the Cartesian product of its axes, enumerated row-major (first axis
/// slowest, last fastest), so point `index` is stable for a given spec.
public struct GridSpec: Sendable, Hashable, Codable {
    public let axes: [AxisSpec]

    public init(axes: [AxisSpec]) { self.axes = axes }

    /// Parses one spec per axis; a single spec is repeated for all `dimensions` axes.
    public static func parse(_ specs: [String], dimensions: Int) throws(GridError) -> GridSpec {
        guard !specs.isEmpty else { throw .invalid("", "no grid given") }
        guard specs.count == 1 || specs.count == dimensions else {
            throw .invalid(specs.joined(separator: " "), "give one grid for all \(dimensions) axes or one per axis (\(specs.count) given)")
        }
        var axes: [AxisSpec] = []
        for s in specs { axes.append(try AxisSpec.parse(s)) }
        if axes.count == 1 && dimensions > 1 { axes = Array(repeating: axes[0], count: dimensions) }
        let grid = GridSpec(axes: axes)
        guard grid.pointCount <= 10_000_000 else { throw .tooManyPoints(grid.pointCount) }
        return grid
    }

    public var shape: [Int] { axes.map { $0.values.count } }

    public var pointCount: Int {
        axes.reduce(1) { acc, a in acc.multipliedReportingOverflow(by: a.values.count).overflow ? Int.max : acc * a.values.count }
    }

    public func point(at index: Int, round: Int = 0) -> SweepPoint {
        var rest = index
        var coords = [Double](repeating: 0, count: axes.count)
        for k in stride(from: axes.count - 1, through: 0, by: -1) {
            let n = axes[k].values.count
            coords[k] = axes[k].values[rest % n]
            rest /= n
        }
        return SweepPoint(coordinates: coords, index: index, round: round)
    }

    public func points(round: Int = 0) -> [SweepPoint] {
        (0..<pointCount).map { point(at: $0, round: round) }
    }
}

import Foundation

/// A landscape's values on its grid, ready for the surface file, CSV and plot.
/// `values[i][j]` is the value at (xs[i], ys[j]); NaN where a point is missing or failed.
public struct LandscapeSurface: Sendable {
    public var xs: [Double]
    public var ys: [Double]
    public var values: [[Double]]
    public var axisNames: [String]
    public var axisDescriptions: [String]
    public var basis: String
    public var valueName: String
    public var evaluator: String
    public var goal: SweepGoal
    public var markers: [PlaneMarker]
    public var best: PlaneMarker?
    public var bestValue: Double?
    /// failed[i][j]: the point at (xs[i], ys[j]) was evaluated and failed (or timed out), as
    /// opposed to not evaluated yet. Empty means none failed.
    public var failed: [[Bool]] = []
    /// Evaluated points drawn as dots over the heatmap (a search's points, on or off the grid).
    public var points: [PlotPoint] = []
    /// What the legend calls grid points without a value ("MISSING" in a landscape that is not
    /// finished; "NOT EVALUATED" in a search, whose strategy chose to skip them).
    public var missingLabel = "MISSING"

    /// Assembles the surface of a landscape sweep from its manifest and records.
    public static func from(manifest m: SweepManifest, records: RecordSet) -> LandscapeSurface {
        // A line (one axis) is kept as a surface with the single y = 0.
        let twoD = m.grid.axes.count > 1
        let xs = m.grid.axes[0].values, ys = twoD ? m.grid.axes[1].values : [0]
        let (values, failed) = gridValues(xs: xs, ys: ys, line: !twoD, records: records)
        let best = records.best(m.goal)
        return LandscapeSurface(
            xs: xs, ys: ys, values: values, axisNames: m.axisNames,
            axisDescriptions: twoD ? [m.settings["x_axis"] ?? m.axisNames[0], m.settings["y_axis"] ?? m.axisNames.last!]
                : [m.settings["x_axis"] ?? m.axisNames[0]],
            basis: m.settings["basis"] ?? "", valueName: m.settings["value_name"] ?? "score", evaluator: m.evaluator,
            goal: m.goal, markers: LandscapeSettings.markers(m.settings),
            best: best.map { PlaneMarker(label: "best", x: $0.coordinates[0], y: $0.coordinates.count > 1 ? $0.coordinates[1] : 0) }, bestValue: best?.value,
            failed: failed)
    }

    /// The recorded value of every grid point xs × ys (NaN where none), and whether it failed
    /// (an error, a timeout or a non-finite score). A point is found by its id, as every shard,
    /// rerun and refinement round names it; `line`: one axis, ys is [0] and ids have one coordinate.
    /// Shared by landscapes and by a two-weight search's plot (which adds its off-grid points).
    static func gridValues(xs: [Double], ys: [Double], line: Bool, records: RecordSet) -> (values: [[Double]], failed: [[Bool]]) {
        var values = Array(repeating: Array(repeating: Double.nan, count: ys.count), count: xs.count)
        var failed = Array(repeating: Array(repeating: false, count: ys.count), count: xs.count)
        for (i, x) in xs.enumerated() {
            for (j, y) in ys.enumerated() {
                guard let r = records.byID[SweepPoint.id(for: line ? [x] : [x, y])] else { continue }
                if r.status == .ok, let v = r.value, v.isFinite { values[i][j] = v } else { failed[i][j] = true }
            }
        }
        return (values, failed)
    }

    /// A line: one axis (ys is [0]).
    public var isLine: Bool { axisNames.count == 1 }

    /// Finite values only.
    public var finiteValues: [Double] { values.flatMap { $0 }.filter(\.isFinite) }

    public func isFailed(_ i: Int, _ j: Int) -> Bool { i < failed.count && j < failed[i].count && failed[i][j] }

    /// Number of failed points.
    public var failedCount: Int { failed.joined().filter { $0 }.count }

    /// What the values measure, in words (see ScoreLabel).
    public var scoreLabel: String { ScoreLabel.describe(valueName: valueName, evaluator: evaluator) }

    /// Markers (input checkpoints) whose coordinates fall outside the grid's range.
    public var offGridMarkers: [PlaneMarker] {
        let xr = (xs.min() ?? 0, xs.max() ?? 0), yr = (ys.min() ?? 0, ys.max() ?? 0)
        return markers.filter { m in
            !(m.x >= xr.0 - 1e-9 && m.x <= xr.1 + 1e-9 && m.y >= yr.0 - 1e-9 && m.y <= yr.1 + 1e-9)
        }
    }
}

/// One evaluated point of a plot: its value, or nil when the evaluation failed.
public struct PlotPoint: Sendable, Hashable {
    public var x: Double
    public var y: Double
    public var value: Double?
    public init(x: Double, y: Double, value: Double?) { self.x = x; self.y = y; self.value = value }
}

/// How landscape-specific facts are kept in the manifest's string settings.
public enum LandscapeSettings {
    public static func encode(markers: [PlaneMarker]) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: (try? enc.encode(markers)) ?? Data("[]".utf8), as: UTF8.self)
    }

    public static func markers(_ settings: [String: String]) -> [PlaneMarker] {
        guard let text = settings["markers"] else { return [] }
        return (try? JSONDecoder().decode([PlaneMarker].self, from: Data(text.utf8))) ?? []
    }
}

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

    /// Assembles the surface of a landscape sweep from its manifest and records.
    public static func from(manifest m: SweepManifest, records: RecordSet) -> LandscapeSurface {
        let xs = m.grid.axes[0].values, ys = m.grid.axes.count > 1 ? m.grid.axes[1].values : [0]
        var values = Array(repeating: Array(repeating: Double.nan, count: ys.count), count: xs.count)
        for (i, x) in xs.enumerated() {
            for (j, y) in ys.enumerated() {
                if let r = records.byID[SweepPoint.id(for: [x, y])], r.status == .ok, let v = r.value { values[i][j] = v }
            }
        }
        let best = records.best(m.goal)
        return LandscapeSurface(
            xs: xs, ys: ys, values: values, axisNames: m.axisNames,
            axisDescriptions: [m.settings["x_axis"] ?? m.axisNames[0], m.settings["y_axis"] ?? m.axisNames.last!],
            basis: m.settings["basis"] ?? "", valueName: m.settings["value_name"] ?? "score", evaluator: m.evaluator,
            goal: m.goal, markers: LandscapeSettings.markers(m.settings),
            best: best.map { PlaneMarker(label: "best", x: $0.coordinates[0], y: $0.coordinates[1]) }, bestValue: best?.value)
    }

    /// Finite values only.
    public var finiteValues: [Double] { values.flatMap { $0 }.filter(\.isFinite) }
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

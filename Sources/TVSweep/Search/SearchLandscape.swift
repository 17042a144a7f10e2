import Foundation
import TVImage
import TVStorage

/// A search over two weights drawn as a landscape (`landscape.png` next to results.csv): the
/// grid's points as a heatmap, every evaluated point as a dot (refinement rounds and CMA-ES
/// samples fall between grid points), the base and the two finetunes as markers, the best as a star.
public enum SearchLandscape {
    public static let fileName = "landscape.png"

    /// The surface of a two-axis search, or nil for any other number of axes.
    public static func surface(manifest m: SweepManifest, records: RecordSet) -> LandscapeSurface? {
        guard m.axisNames.count == 2, m.grid.axes.count == 2 else { return nil }
        let xs = m.grid.axes[0].values.sorted(), ys = m.grid.axes[1].values.sorted()
        let (values, failed) = LandscapeSurface.gridValues(xs: xs, ys: ys, line: false, records: records)
        // Every evaluated point as a dot: refinement rounds and CMA-ES samples fall between grid points.
        let points = records.records.filter { $0.coordinates.count == 2 }.map { r in
            PlotPoint(x: r.coordinates[0], y: r.coordinates[1], value: r.status == .ok && (r.value?.isFinite ?? false) ? r.value : nil)
        }
        let best = records.best(m.goal)
        var s = LandscapeSurface(
            xs: xs, ys: ys, values: values, axisNames: m.axisNames, axisDescriptions: m.axisNames,
            basis: "merge-weight", valueName: valueName(evaluator: m.evaluator), evaluator: m.evaluator, goal: m.goal,
            markers: markers(manifest: m),
            best: best.map { PlaneMarker(label: "best", x: $0.coordinates[0], y: $0.coordinates[1]) }, bestValue: best?.value,
            failed: failed)
        s.points = points
        s.missingLabel = "NOT EVALUATED"
        return s
    }

    /// Writes the plot into `directory` when the search has two axes; returns its path.
    public static func write(manifest: SweepManifest, records: RecordSet, directory: String) throws -> String? {
        guard let s = surface(manifest: manifest, records: records) else { return nil }
        let path = URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
        try AtomicFile.write(Data(PlotImage.png(LandscapePlot.render(s))), to: path)
        return path
    }

    /// Where the inputs sit in weight space: the base at (0, 0); with one weight per model the
    /// finetunes at (1, 0) and (0, 1); with two layer groups of one model, that model at (1, 1).
    static func markers(manifest m: SweepManifest) -> [PlaneMarker] {
        let names = m.inputs.map { URL(fileURLWithPath: $0).lastPathComponent }
        guard names.count >= 2 else { return [] }
        if m.settings["block_groups"] != nil || names.count == 2 {
            return [PlaneMarker(label: "base", x: 0, y: 0), PlaneMarker(label: names[1], x: 1, y: 1)]
        }
        return [PlaneMarker(label: "base", x: 0, y: 0), PlaneMarker(label: names[1], x: 1, y: 0),
                PlaneMarker(label: names[2], x: 0, y: 1)]
    }

    /// The plotted quantity's name in ScoreLabel's terms: the built-in evaluator's summary
    /// ("builtin eps-mse … , t in [A, B)") becomes "eps_mse t=A:B"; a command's score stays "score".
    static func valueName(evaluator: String) -> String {
        guard evaluator.hasPrefix("builtin eps-mse") else { return "score" }
        guard let r = evaluator.range(of: ", t in [") else { return "eps_mse" }
        let bounds = evaluator[r.upperBound...].prefix { $0 != ")" }.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return bounds.count == 2 ? "eps_mse t=\(bounds[0]):\(bounds[1])" : "eps_mse"
    }
}

import Foundation
import TVStorage

/// Writes a landscape as an HDF5 surface file in the layout of loss-landscape (Li et al.):
/// 1-d float64 datasets `xcoordinates` and `ycoordinates` and the 2-d float64 dataset `values`
/// with values[i, j] at (xcoordinates[i], ycoordinates[j]) (NaN where missing or failed), plus
/// string attributes on the root naming the axes, the basis and the evaluator, and the markers.
/// Written through TVStorage's HDF5 writer (atomic: temporary file, then rename).
public enum SurfaceFile {
    public static func write(_ s: LandscapeSurface, to path: String) throws {
        var attrs: [String: String] = [
            "x_axis": s.axisNames.first ?? "x", "y_axis": s.axisNames.last ?? "y",
            "x_axis_description": s.axisDescriptions.first ?? "", "y_axis_description": s.axisDescriptions.last ?? "",
            "basis": s.basis, "value_name": s.valueName, "evaluator": s.evaluator, "goal": s.goal.rawValue,
            "layout": "values[i, j] is the value at (xcoordinates[i], ycoordinates[j]); NaN = missing or failed",
            "markers": LandscapeSettings.encode(markers: s.markers), "tool": "tvtool \(TVSweepInfo.version)",
        ]
        if let b = s.best, let v = s.bestValue { attrs["best"] = "\(b.x),\(b.y),\(v)" }
        let tensors: [(String, Tensor)] = [
            ("xcoordinates", try Tensor.fromDoubles(s.xs, shape: [s.xs.count])),
            ("ycoordinates", try Tensor.fromDoubles(s.ys, shape: [s.ys.count])),
            ("values", try Tensor.fromDoubles(s.values.flatMap { $0 }, shape: [s.xs.count, s.ys.count])),
        ]
        try Checkpoints.save(tensors, to: path, metadata: attrs)
    }
}

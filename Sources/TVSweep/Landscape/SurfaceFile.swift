import Foundation
import TVStorage

/// Writes a landscape as an HDF5 surface file in the layout of loss-landscape (Li et al.):
/// 1-d float64 datasets `xcoordinates` and `ycoordinates` and the 2-d float64 dataset `values`
/// with values[i, j] at (xcoordinates[i], ycoordinates[j]) (NaN where missing or failed), plus
/// string attributes on the root naming the axes, the basis and the evaluator, and the markers.
/// For loss-landscape's plot_2D.py / plot_surface.py / h52vtp.py (which take --surf_name,
/// default train_loss) the same values are also stored as `train_loss` and `test_loss` in their
/// orientation: shape [len(ycoordinates), len(xcoordinates)], Z[j, i] at (x_i, y_j), matching
/// `np.meshgrid(xcoordinates, ycoordinates)`. Both names hold the one score (for the built-in
/// evaluator a held-out eps-MSE); the attribute `loss_landscape_surf_name` says so. A line (one
/// axis) keeps ycoordinates = [0] and values [n, 1], with train_loss/test_loss 1-d as plot_1D.py reads;
/// plot_1D.py also reads `train_acc` (always) and `test_acc` (when test_loss exists), so a line also
/// holds those, all NaN: tvtool measures no accuracy, and NaN draws nothing rather than a made-up curve.
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
        attrs["loss_landscape_surf_name"] = "train_loss and test_loss both hold \(s.scoreLabel), indexed [y, x]"
        if let b = s.best, let v = s.bestValue { attrs["best"] = "\(b.x),\(b.y),\(v)" }
        let yMajor = s.ys.indices.flatMap { j in s.xs.indices.map { i in s.values[i][j] } }
        // loss-landscape's 1-d files (plot_1D.py) hold train_loss[i] at xcoordinates[i].
        let llShape = s.isLine ? [s.xs.count] : [s.ys.count, s.xs.count]
        var tensors: [(String, Tensor)] = [
            ("xcoordinates", try Tensor.fromDoubles(s.xs, shape: [s.xs.count])),
            ("ycoordinates", try Tensor.fromDoubles(s.ys, shape: [s.ys.count])),
            ("values", try Tensor.fromDoubles(s.values.flatMap { $0 }, shape: [s.xs.count, s.ys.count])),
            ("train_loss", try Tensor.fromDoubles(yMajor, shape: llShape)),
            ("test_loss", try Tensor.fromDoubles(yMajor, shape: llShape)),
        ]
        if s.isLine {
            let notMeasured = [Double](repeating: .nan, count: s.xs.count)
            tensors += [("train_acc", try Tensor.fromDoubles(notMeasured, shape: llShape)),
                        ("test_acc", try Tensor.fromDoubles(notMeasured, shape: llShape))]
            attrs["loss_landscape_acc"] = "train_acc and test_acc are NaN: not measured (plot_1D.py reads them)"
        }
        try Checkpoints.save(tensors, to: path, metadata: attrs)
    }
}

import CHDF5
import Foundation
import TVStorage

/// Writes a landscape as an HDF5 surface file in the layout of loss-landscape (Li et al.):
/// 1-d float64 datasets `xcoordinates` and `ycoordinates` and the 2-d float64 dataset `values`
/// with values[i, j] at (xcoordinates[i], ycoordinates[j]) (NaN where missing or failed), plus
/// string attributes on the root naming the axes, the basis and the evaluator, and the markers.
public enum SurfaceFile {
    public static func write(_ s: LandscapeSurface, to path: String) throws {
        tv_h5_silence_errors()
        let tmp = URL(fileURLWithPath: path).deletingLastPathComponent()
            .appendingPathComponent(".\(URL(fileURLWithPath: path).lastPathComponent).tmp-\(getpid())").path
        let file = H5Fcreate(tmp, tv_h5f_acc_trunc(), tv_h5p_default(), tv_h5p_default())
        guard file >= 0 else { throw StorageError.cannotWrite(path: path, reason: "HDF5 cannot create the file") }
        var ok = true
        ok = ok && dataset(file, "xcoordinates", s.xs, dims: [s.xs.count])
        ok = ok && dataset(file, "ycoordinates", s.ys, dims: [s.ys.count])
        ok = ok && dataset(file, "values", s.values.flatMap { $0 }, dims: [s.xs.count, s.ys.count])
        var attrs: [(String, String)] = [
            ("x_axis", s.axisNames.first ?? "x"), ("y_axis", s.axisNames.last ?? "y"),
            ("x_axis_description", s.axisDescriptions.first ?? ""), ("y_axis_description", s.axisDescriptions.last ?? ""),
            ("basis", s.basis), ("value_name", s.valueName), ("evaluator", s.evaluator), ("goal", s.goal.rawValue),
            ("layout", "values[i, j] is the value at (xcoordinates[i], ycoordinates[j]); NaN = missing or failed"),
            ("markers", LandscapeSettings.encode(markers: s.markers)), ("tool", "tvtool \(TVSweepInfo.version)"),
        ]
        if let b = s.best, let v = s.bestValue { attrs.append(("best", "\(b.x),\(b.y),\(v)")) }
        for (k, v) in attrs { ok = ok && attribute(file, k, v) }
        ok = H5Fclose(file) >= 0 && ok
        guard ok else {
            unlink(tmp)
            throw StorageError.cannotWrite(path: path, reason: "HDF5 error while writing the surface")
        }
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw StorageError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
    }

    private static func dataset(_ file: hid_t, _ name: String, _ values: [Double], dims: [Int]) -> Bool {
        var d = dims.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(d.count), &d, nil)
        guard space >= 0 else { return false }
        defer { H5Sclose(space) }
        let ds = H5Dcreate2(file, name, tv_ieee_f64le(), space, tv_h5p_default(), tv_h5p_default(), tv_h5p_default())
        guard ds >= 0 else { return false }
        defer { H5Dclose(ds) }
        return values.withUnsafeBytes { H5Dwrite(ds, tv_native_double(), tv_h5s_all(), tv_h5s_all(), tv_h5p_default(), $0.baseAddress) } >= 0
    }

    /// A variable-length UTF-8 string attribute on the root (what h5py reads back as `str`).
    private static func attribute(_ file: hid_t, _ name: String, _ value: String) -> Bool {
        let type = H5Tcopy(tv_c_s1())
        defer { H5Tclose(type) }
        guard H5Tset_size(type, tv_h5t_variable()) >= 0, H5Tset_cset(type, H5T_CSET_UTF8) >= 0 else { return false }
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        let attr = H5Acreate2(file, name, type, space, tv_h5p_default(), tv_h5p_default())
        guard attr >= 0 else { return false }
        defer { H5Aclose(attr) }
        return value.withCString { cstr in
            var p: UnsafePointer<CChar>? = cstr
            return H5Awrite(attr, type, &p) >= 0
        }
    }
}

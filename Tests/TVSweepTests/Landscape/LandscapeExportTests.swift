import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
@testable import TVSweep

/// The export files read back by independent readers: the .vts by an XML parser (the layout VTK's
/// StructuredGrid reader expects), the HDF5 surface by h5py the way loss-landscape's plot_2D.py
/// and h52vtp.py read it.
final class LandscapeExportTests: XCTestCase {
    /// A bowl on a non-square grid (8 x 15, so a transposed layout cannot pass), whose corner
    /// point (1.2, 1.2) fails.
    func bowlLandscape(_ name: String) throws -> LandscapeSweep.Outputs {
        let dir = TestPaths.scratchDirectory(name)
        let (base, a, b) = try TinyCheckpoints.trio(in: dir)
        let p = try LandscapeSweep.prepare(base: base, a: a, b: b, plane: LandscapePlaneOptions(basis: .coefficients))
        let bowl = ClosureEvaluator(summary: "bowl") { pt in
            if pt.coordinates == [1.2, 1.2] { throw EvaluationFailure(message: "no") }
            return Self.bowl(pt.coordinates[0], pt.coordinates[1])
        }
        let grid = try GridSpec.parse(["-0.2:1.2:8", "-0.2:1.2:15"], dimensions: 2)
        let m = LandscapeSweep.manifest(plane: p.plane, grid: grid, inputs: [base, a, b], evaluator: bowl.summary, valueName: "bowl")
        let out = dir.appendingPathComponent("land").path
        let o = try SweepSession.run(manifest: m, evaluator: bowl, directory: out, options: SweepRunOptions())
        return try LandscapeSweep.writeOutputs(manifest: m, records: o.records, directory: out)
    }

    static func bowl(_ x: Double, _ y: Double) -> Double { (x - 0.4) * (x - 0.4) + 2 * (y - 0.6) * (y - 0.6) }

    func testStructuredGridParsesBackWithDimensionsPointsAndScores() throws {
        let files = try bowlLandscape("landscape-vts")
        let doc = try XMLDocument(contentsOf: URL(fileURLWithPath: files.vts), options: [])
        let root = try XCTUnwrap(doc.rootElement())
        XCTAssertEqual(root.name, "VTKFile")
        XCTAssertEqual(root.attribute(forName: "type")?.stringValue, "StructuredGrid")
        let grid = try XCTUnwrap(root.elements(forName: "StructuredGrid").first)
        XCTAssertEqual(grid.attribute(forName: "WholeExtent")?.stringValue, "0 7 0 14 0 0")
        let piece = try XCTUnwrap(grid.elements(forName: "Piece").first)
        XCTAssertEqual(piece.attribute(forName: "Extent")?.stringValue, "0 7 0 14 0 0")
        // The score's name is field data of the grid (VTK's XML readers ignore FieldData inside a Piece).
        XCTAssertTrue(piece.elements(forName: "FieldData").isEmpty)
        let label = try XCTUnwrap(grid.elements(forName: "FieldData").first?.elements(forName: "Array").first)
        XCTAssertEqual(label.attribute(forName: "Name")?.stringValue, "score_label")
        let codes = (label.stringValue ?? "").split(separator: " ").compactMap { UInt8($0) }
        XCTAssertEqual(String(decoding: codes.dropLast(), as: UTF8.self), "bowl")
        XCTAssertEqual(codes.last, 0)
        func numbers(_ e: XMLElement?) -> [Double] {
            (e?.stringValue ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
        }
        func array(_ parent: XMLElement?, _ name: String) -> XMLElement? {
            parent?.elements(forName: "DataArray").first { $0.attribute(forName: "Name")?.stringValue == name }
        }
        let pointsArray = array(piece.elements(forName: "Points").first, "Points")
        XCTAssertEqual(pointsArray?.attribute(forName: "NumberOfComponents")?.stringValue, "3")
        let points = numbers(pointsArray)
        let pointData = piece.elements(forName: "PointData").first
        let scores = numbers(array(pointData, "score")), failed = numbers(array(pointData, "failed"))
        let ghost = numbers(array(pointData, "vtkGhostType"))
        XCTAssertEqual(points.count, 8 * 15 * 3)
        XCTAssertEqual(scores.count, 8 * 15)
        XCTAssertEqual(failed.count, 8 * 15)
        XCTAssertEqual(ghost.count, 8 * 15)
        let xs = (0..<8).map { -0.2 + 1.4 * Double($0) / 7 }, ys = (0..<15).map { -0.2 + 1.4 * Double($0) / 14 }
        // VTK point order: x fastest. z and the score are the bowl, except the hidden failed corner.
        for j in 0..<15 {
            for i in 0..<8 {
                let k = i + j * 8
                XCTAssertEqual(points[3 * k], xs[i], accuracy: 1e-12)
                XCTAssertEqual(points[3 * k + 1], ys[j], accuracy: 1e-12)
                if i == 7 && j == 14 {
                    XCTAssertEqual(failed[k], 1); XCTAssertEqual(ghost[k], 2)
                } else {
                    XCTAssertEqual(points[3 * k + 2], Self.bowl(xs[i], ys[j]), accuracy: 1e-12, "point \(i),\(j)")
                    XCTAssertEqual(scores[k], points[3 * k + 2])
                    XCTAssertEqual(failed[k], 0); XCTAssertEqual(ghost[k], 0)
                }
            }
        }
        // The failed point's placeholder height is a finite value from the surface, not a guess outside it.
        XCTAssertEqual(points[3 * 119 + 2], scores.enumerated().filter { $0.offset != 119 }.map(\.element).min())
    }

    func testSurfaceFileHasLossLandscapeLayout() throws {
        guard let python = TestPaths.python(with: ["numpy", "h5py"]) else {
            throw XCTSkip("python3 with numpy and h5py is needed to read the surface file back")
        }
        let files = try bowlLandscape("landscape-h5-ll")
        // What plot_2D.py / plot_surface.py / h52vtp.py do: X, Y = np.meshgrid(x, y); Z = f[surf_name].
        let check = """
            import h5py, numpy as np, json
            f = h5py.File("\(files.surface)", "r")
            x, y = f["xcoordinates"][:], f["ycoordinates"][:]
            X, Y = np.meshgrid(x, y)
            out = {"x": list(x.shape), "y": list(y.shape)}
            for name in ["train_loss", "test_loss"]:
                Z = np.array(f[name][:])
                ref = (X - 0.4) ** 2 + 2 * (Y - 0.6) ** 2
                ok = np.isfinite(Z)
                out[name] = {"shape": list(Z.shape), "dtype": str(Z.dtype), "err": float(np.abs(Z[ok] - ref[ok]).max()),
                             "nan": int((~ok).sum()), "nan_at": [int(v) for v in np.argwhere(~ok)[0]],
                             "ravel_matches_mesh": bool(np.allclose(Z.ravel()[ok.ravel()], ((X.ravel() - 0.4) ** 2 + 2 * (Y.ravel() - 0.6) ** 2)[ok.ravel()]))}
            print(json.dumps(out))
            """
        let r = try TestPaths.runPython(python, script: check)
        XCTAssertEqual(r.status, 0, r.stderr)
        let result = try JSONSerialization.jsonObject(with: r.stdout) as! [String: Any]
        XCTAssertEqual(result["x"] as? [Int], [8])
        XCTAssertEqual(result["y"] as? [Int], [15])
        for name in ["train_loss", "test_loss"] {
            let d = try XCTUnwrap(result[name] as? [String: Any], name)
            XCTAssertEqual(d["shape"] as? [Int], [15, 8], name)
            XCTAssertEqual(d["dtype"] as? String, "float64", name)
            XCTAssertLessThan(d["err"] as! Double, 1e-12, name)
            XCTAssertEqual(d["nan"] as? Int, 1, name)
            XCTAssertEqual(d["nan_at"] as? [Int], [14, 7], name)
            XCTAssertEqual(d["ravel_matches_mesh"] as? Bool, true, name)
        }
    }

    /// A line's surface file read the way loss-landscape's plot_1D.py reads it: xcoordinates,
    /// train_loss, then train_acc unconditionally and test_loss/test_acc (NaN: accuracy is not measured).
    func testLineSurfaceFileHasPlot1DLayout() throws {
        guard let python = TestPaths.python(with: ["numpy", "h5py"]) else {
            throw XCTSkip("python3 with numpy and h5py is needed to read the surface file back")
        }
        let dir = TestPaths.scratchDirectory("landscape-h5-line")
        let (base, a, _) = try TinyCheckpoints.trio(in: dir)
        let prepared = try InterpolationLine.prepare(checkpoints: [base, a])
        let eval = ClosureEvaluator(summary: "parabola") { pt in (pt.coordinates[0] - 0.3) * (pt.coordinates[0] - 0.3) }
        let grid = try GridSpec.parse(["-0.5:1.5:9"], dimensions: 1)
        let m = LandscapeSweep.manifest(plane: prepared.plane, grid: grid, inputs: [base, a], evaluator: eval.summary, valueName: "p")
        let out = dir.appendingPathComponent("line").path
        let o = try SweepSession.run(manifest: m, evaluator: eval, directory: out, options: SweepRunOptions())
        let files = try LandscapeSweep.writeOutputs(manifest: m, records: o.records, directory: out)
        let check = """
            import h5py, numpy as np, json
            f = h5py.File("\(files.surface)", "r")
            x = f['xcoordinates'][:]
            assert 'train_loss' in f.keys()
            train_loss = f['train_loss'][:]
            train_acc = f['train_acc'][:]
            test_loss, test_acc = f['test_loss'][:], f['test_acc'][:]
            print(json.dumps({"shapes": [list(a.shape) for a in (x, train_loss, train_acc, test_loss, test_acc)],
                              "err": float(np.abs(train_loss - (x - 0.3) ** 2).max()),
                              "acc_nan": bool(np.isnan(train_acc).all() and np.isnan(test_acc).all())}))
            """
        let r = try TestPaths.runPython(python, script: check)
        XCTAssertEqual(r.status, 0, r.stderr)
        let result = try JSONSerialization.jsonObject(with: r.stdout) as! [String: Any]
        XCTAssertEqual(result["shapes"] as? [[Int]], Array(repeating: [9], count: 5))
        XCTAssertLessThan(result["err"] as! Double, 1e-12)
        XCTAssertEqual(result["acc_nan"] as? Bool, true)
    }
}

import XCTest
import TVStorage
@testable import TVSweep

/// Runs landscapes with a Python (numpy + safetensors) evaluator that recomputes each candidate
/// independently from the three input files, so the plane geometry is checked against numpy.
final class LandscapeCrossCheckTests: XCTestCase {
    /// Prints max |candidate - expected| where expected is built in numpy for the basis.
    static let checker = """
        import sys, json, numpy as np
        from safetensors.numpy import load_file
        basis, base, a, b, cand = sys.argv[1:6]
        x, y = float(sys.argv[6]), float(sys.argv[7])
        t0, ta, tb, c = (load_file(p) for p in (base, a, b, cand))
        names = sorted(t0)
        flat = lambda d: np.concatenate([d[n].astype(np.float64).ravel() for n in names])
        f0, fa, fb, fc = flat(t0), flat(ta), flat(tb), flat(c)
        tau_a, tau_b = fa - f0, fb - f0
        if basis == "coefficients":
            expected = f0 + x * tau_a + y * tau_b
        else:
            u = tau_a / np.linalg.norm(tau_a)
            v = tau_b - (tau_b @ u) * u
            v /= np.linalg.norm(v)
            n = np.linalg.norm(tau_a)
            expected = f0 + x * n * u + y * n * v
        print("loading", cand, file=sys.stderr)
        print(json.dumps({"err": float(np.abs(fc - expected).max()), "norm": float(fc @ fc)}))
        """

    func testCandidatesMatchNumpyForBothBases() throws {
        guard let python = TestPaths.python(with: ["numpy", "safetensors"]) else {
            throw XCTSkip("python3 with numpy and safetensors is needed for this cross-check")
        }
        let dir = TestPaths.scratchDirectory("landscape-xcheck")
        let (base, a, b) = try TinyCheckpoints.trio(in: dir)
        let script = dir.appendingPathComponent("check.py").path
        try Self.checker.write(toFile: script, atomically: true, encoding: .utf8)
        for basis in [LandscapeBasis.coefficients, .orthonormal] {
            let p = try LandscapeSweep.prepare(base: base, a: a, b: b, plane: LandscapePlaneOptions(basis: basis))
            let (xn, yn) = (p.plane.axisNames[0], p.plane.axisNames[1])
            let cmd = "\(python) \(script) \(basis.rawValue) \(base) \(a) \(b) {checkpoint} {\(xn)} {\(yn)}"
            let errors = ExternalCommandEvaluator(command: cmd, candidates: p.family, axisNames: p.plane.axisNames, timeout: 60,
                                                  parser: ScoreParser(field: "err"))
            let grid = try GridSpec.parse(["-0.2,1.2", "0.5,1.1"], dimensions: 2)
            let out = dir.appendingPathComponent("land-\(basis.rawValue)").path
            let manifest = LandscapeSweep.manifest(plane: p.plane, grid: grid, inputs: [base, a, b], evaluator: errors.summary, valueName: "err")
            let outcome = try SweepSession.run(manifest: manifest, evaluator: errors, directory: out, options: SweepRunOptions(jobs: 2))
            XCTAssertEqual(outcome.evaluated, 4)
            XCTAssertEqual(outcome.failed, 0, "\(outcome.records.records.compactMap(\.stderrTail))")
            for r in outcome.records.records { XCTAssertLessThan(r.value!, 1e-5, "\(basis) at \(r.id)") }
        }
    }

    /// Checks in numpy that (candidate - centre) / x is filter-normalised against the centre:
    /// each output row of a 2-d weight, and the whole 1-d bias, has the centre's norm.
    func testRandomDirectionsAreFilterNormalisedInNumpy() throws {
        guard let python = TestPaths.python(with: ["numpy", "safetensors"]) else {
            throw XCTSkip("python3 with numpy and safetensors is needed for this cross-check")
        }
        let dir = TestPaths.scratchDirectory("landscape-random")
        let (base, a, b) = try TinyCheckpoints.trio(in: dir)
        let script = dir.appendingPathComponent("filters.py").path
        try """
            import sys, json, numpy as np
            from safetensors.numpy import load_file
            centre, cand, x = load_file(sys.argv[1]), load_file(sys.argv[2]), float(sys.argv[3])
            err = 0.0
            for n, c in centre.items():
                d = (cand[n].astype(np.float64) - c) / x
                rows = d.reshape(d.shape[0], -1) if d.ndim >= 2 else d.reshape(1, -1)
                ref = c.reshape(rows.shape).astype(np.float64)
                err = max(err, float(np.abs(np.linalg.norm(rows, axis=1) - np.linalg.norm(ref, axis=1)).max()))
            print(err)
            """.write(toFile: script, atomically: true, encoding: .utf8)
        for center in ["A", "base"] {
            let p = try LandscapeSweep.prepare(base: base, a: a, b: b,
                                               plane: LandscapePlaneOptions(basis: .randomFilterNormalized, seed: 3, center: center))
            let centrePath = center == "A" ? a : base
            let e = ExternalCommandEvaluator(command: "\(python) \(script) \(centrePath) {checkpoint} {x}", candidates: p.family,
                                             axisNames: p.plane.axisNames, timeout: 60)
            XCTAssertLessThan(try e.evaluate(SweepPoint(coordinates: [0.5, 0], index: 0)), 1e-5)
            XCTAssertEqual(p.plane.markers.map(\.label), [center])
        }
    }

    func testSurfaceFileCSVAndPlotReadBackWithH5py() throws {
        guard let python = TestPaths.python(with: ["numpy", "h5py"]) else {
            throw XCTSkip("python3 with numpy and h5py is needed to read the surface file back")
        }
        let dir = TestPaths.scratchDirectory("landscape-out")
        let (base, a, b) = try TinyCheckpoints.trio(in: dir)
        let p = try LandscapeSweep.prepare(base: base, a: a, b: b, plane: LandscapePlaneOptions(basis: .coefficients))
        // A known surface: (a - 0.4)^2 + 2 (b - 0.6)^2; the point (1.2, 1.2) fails.
        let bowl = ClosureEvaluator(summary: "bowl") { pt in
            if pt.coordinates == [1.2, 1.2] { throw EvaluationFailure(message: "no") }
            return pow(pt.coordinates[0] - 0.4, 2) + 2 * pow(pt.coordinates[1] - 0.6, 2)
        }
        let grid = try GridSpec.parse(["-0.2:1.2:8", "-0.2:1.2:15"], dimensions: 2)
        let m = LandscapeSweep.manifest(plane: p.plane, grid: grid, inputs: [base, a, b], evaluator: bowl.summary, valueName: "bowl")
        let out = dir.appendingPathComponent("land").path
        let o = try SweepSession.run(manifest: m, evaluator: bowl, directory: out, options: SweepRunOptions())
        let files = try LandscapeSweep.writeOutputs(manifest: m, records: o.records, directory: out)
        let check = """
            import h5py, numpy as np, json
            f = h5py.File("\(files.surface)", "r")
            x, y, v = f["xcoordinates"][()], f["ycoordinates"][()], f["values"][()]
            X, Y = np.meshgrid(x, y, indexing="ij")
            ref = (X - 0.4) ** 2 + 2 * (Y - 0.6) ** 2
            ok = np.isfinite(v)
            print(json.dumps({"shape": list(v.shape), "err": float(np.abs(v[ok] - ref[ok]).max()), "nan": int((~ok).sum()),
                              "nan_at_corner": bool(np.isnan(v[-1, -1])), "x_axis": f.attrs["x_axis"], "y_axis": f.attrs["y_axis"],
                              "basis": f.attrs["basis"], "markers": json.loads(f.attrs["markers"])}))
            """
        let result = try runPython(python, check)
        XCTAssertEqual(result["shape"] as? [Int], [8, 15])
        XCTAssertLessThan(result["err"] as! Double, 1e-12)
        XCTAssertEqual(result["nan"] as? Int, 1)
        XCTAssertEqual(result["nan_at_corner"] as? Bool, true)
        XCTAssertEqual(result["x_axis"] as? String, "a")
        XCTAssertEqual(result["y_axis"] as? String, "b")
        XCTAssertEqual(result["basis"] as? String, "coefficients")
        XCTAssertEqual((result["markers"] as? [[String: Any]])?.count, 3)
        let csv = try String(contentsOfFile: files.csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 1 + 8 * 15)
        XCTAssertEqual(csv[0], "id,round,index,a,b,status,value,standard_error,error")
        let png = try Data(contentsOf: URL(fileURLWithPath: files.plot))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
    }

    private func runPython(_ python: String, _ code: String) throws -> [String: Any] {
        let r = try TestPaths.runPython(python, script: code)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try JSONSerialization.jsonObject(with: r.stdout) as! [String: Any]
    }
}

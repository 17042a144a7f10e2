import XCTest
import TVStorage
@testable import TVSweep

/// Trajectory PCA (Gram-matrix trick + dsyev) against numpy's SVD of the centred differences, as
/// sklearn's PCA computes it; directions compared up to sign.
final class TrajectoryPCATests: XCTestCase {
    func testDirectionsVarianceAndProjectionsMatchNumpyPCA() throws {
        guard let python = TestPaths.python(with: ["numpy"]) else { throw XCTSkip("python3 with numpy is needed for the PCA oracle") }
        let dir = TestPaths.scratchDirectory("trajectory-pca")
        // A final model and 6 checkpoints along a noisy curved path (two tensors, 70 values).
        var rng = SplitMix(seed: 11)
        let w0 = (0..<60).map { _ in Float(rng.normal()) }, b0 = (0..<10).map { _ in Float(rng.normal()) }
        let final = dir.appendingPathComponent("final.safetensors").path
        try TinyCheckpoints.write(final, [("w", w0, [6, 10]), ("b", b0, [10])])
        let u = (0..<70).map { _ in rng.normal() }, v = (0..<70).map { _ in rng.normal() }
        var paths: [String] = [], rows: [[Double]] = []
        for k in 0..<6 {
            let s = Double(6 - k) / 6
            let delta = (0..<70).map { 2 * s * u[$0] + s * s * v[$0] + 0.05 * rng.normal() }
            let p = dir.appendingPathComponent("ckpt\(k).safetensors").path
            let w = (0..<60).map { w0[$0] + Float(delta[$0]) }, b = (0..<10).map { b0[$0] + Float(delta[60 + $0]) }
            try TinyCheckpoints.write(p, [("w", w, [6, 10]), ("b", b, [10])])
            paths.append(p)
            // What the files hold, as float32 differences (any fixed tensor order: PCA does not depend on it).
            rows.append(w.enumerated().map { Double($1) - Double(w0[$0]) } + b.enumerated().map { Double($1) - Double(b0[$0]) })
        }
        let prepared = try TrajectoryDirections.prepare(base: final, checkpoints: paths)
        let pca = prepared.pca
        // The directions as vectors: d_k = sum_i a_ki delta_i.
        let directions = pca.coefficients.map { a in (0..<70).map { j in (0..<6).reduce(0.0) { $0 + a[$1] * rows[$1][j] } } }
        let payload = try JSONSerialization.data(withJSONObject: ["x": rows, "d": directions, "ratio": pca.explainedVarianceRatio,
                                                                   "var": pca.explainedVariance, "proj": pca.projections])
        let script = """
            import sys, json, numpy as np
            p = json.loads(sys.stdin.read() if len(sys.argv) < 2 else open(sys.argv[1]).read())
            X = np.array(p["x"]); Xc = X - X.mean(axis=0)
            U, S, Vt = np.linalg.svd(Xc, full_matrices=False)
            var = S ** 2 / (X.shape[0] - 1)
            d = np.array(p["d"])
            cos = [abs(float(d[k] @ Vt[k])) / np.linalg.norm(d[k]) for k in range(2)]
            proj = X @ Vt[:2].T
            sign = np.sign([float(d[k] @ Vt[k]) for k in range(2)])
            out = {"cos": cos, "norm": [float(np.linalg.norm(d[k])) for k in range(2)],
                   "ratio_err": float(np.abs(np.array(p["ratio"]) - (var / var.sum())[:2]).max()),
                   "var_err": float(np.abs(np.array(p["var"]) - var[:2]).max() / var[0]),
                   "proj_err": float(np.abs(np.array(p["proj"]) - proj * sign).max()),
                   "ratio": (var / var.sum())[:2].tolist()}
            print(json.dumps(out))
            """
        let input = dir.appendingPathComponent("pca.json")
        try payload.write(to: input)
        let r = try TestPaths.runPython(python, script: script, arguments: [input.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try JSONSerialization.jsonObject(with: r.stdout) as! [String: Any]
        for c in o["cos"] as! [Double] { XCTAssertEqual(c, 1, accuracy: 1e-9) }
        for n in o["norm"] as! [Double] { XCTAssertEqual(n, 1, accuracy: 1e-9) }
        XCTAssertLessThan(o["ratio_err"] as! Double, 1e-10)
        XCTAssertLessThan(o["var_err"] as! Double, 1e-10)
        XCTAssertLessThan(o["proj_err"] as! Double, 1e-9)
        // A curved path: the first PC dominates but the second is not negligible.
        let ratio = o["ratio"] as! [Double]
        XCTAssertGreaterThan(ratio[0], 0.5); XCTAssertGreaterThan(ratio[1], 1e-4)
        // The family puts the model at (x, y) = base + x d_1 + y d_2.
        let m = try prepared.family.materialize(at: [0.3, -0.2])
        let wAt = try XCTUnwrap(m["w"]).floats()
        for j in 0..<60 { XCTAssertEqual(Double(wAt[j]), Double(w0[j]) + 0.3 * directions[0][j] - 0.2 * directions[1][j], accuracy: 1e-5) }
        // Markers: the final model at the origin, each checkpoint at its projection.
        XCTAssertEqual(prepared.plane.markers.count, 7)
        XCTAssertEqual(prepared.plane.markers[1].x, pca.projections[0][0])
    }

    func testCollinearTrajectoryIsRefused() throws {
        let g: [Double] = [1, 2, 3, 2, 4, 6, 3, 6, 9]  // delta_i = i * delta_1
        XCTAssertThrowsError(try TrajectoryPCA.fromGram(g, count: 3))
        XCTAssertThrowsError(try TrajectoryPCA.fromGram([1], count: 1))
    }
}

/// Deterministic normal samples for fixtures (SplitMix64 + Box–Muller).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }
    mutating func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
}

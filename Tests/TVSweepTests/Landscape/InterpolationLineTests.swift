import XCTest
import TVStorage
import TVImage
@testable import TVSweep

final class InterpolationLineTests: XCTestCase {
    /// The candidate at t is (1-f) c_k + f c_{k+1}, computed here directly from the checkpoints'
    /// tensors (not from task vectors, as the family does).
    func testPathThroughFourCheckpointsMatchesDirectInterpolation() throws {
        let dir = TestPaths.scratchDirectory("line-path")
        let (base, a, b) = try TinyCheckpoints.trio(in: dir)
        let c = dir.appendingPathComponent("c.safetensors").path
        try TinyCheckpoints.write(c, [("layer.weight", (0..<12).map { Float($0) * -0.05 + 0.3 }, [3, 4]), ("layer.bias", [1, 2, 3], [3])])
        let paths = [base, a, b, c]
        let prepared = try InterpolationLine.prepare(checkpoints: paths)
        XCTAssertEqual(prepared.plane.markers.map(\.x), [0, 1, 2, 3])
        XCTAssertEqual(prepared.plane.markers.map(\.label), ["base", "a", "b", "c"])
        let readers = try paths.map { try Checkpoints.open($0) }
        for t in [-0.5, 0, 0.25, 1, 1.5, 2.75, 3, 3.4] {
            let k = min(max(Int(t.rounded(.down)), 0), 2), f = t - Double(k)
            let got = try prepared.family.materialize(at: [t])
            for name in ["layer.weight", "layer.bias"] {
                let lo = try readers[k].tensor(named: name).floats(), hi = try readers[k + 1].tensor(named: name).floats()
                let want = zip(lo, hi).map { (1 - f) * Double($0) + f * Double($1) }
                let have = try XCTUnwrap(got[name]).floats()
                for (x, y) in zip(have, want) { XCTAssertEqual(Double(x), y, accuracy: 1e-5, "t=\(t) \(name)") }
            }
        }
        XCTAssertThrowsError(try InterpolationLine.prepare(checkpoints: [base]))
    }

    func testLineSurfacePlotAndFiles() throws {
        let dir = TestPaths.scratchDirectory("line-outputs")
        let (base, a, b) = try TinyCheckpoints.trio(in: dir)
        let prepared = try InterpolationLine.prepare(checkpoints: [base, a, b])
        // A parabola along t with a failure at t = 1.5.
        let eval = ClosureEvaluator(summary: "parabola") { pt in
            if pt.coordinates == [1.5] { throw EvaluationFailure(message: "no") }
            return (pt.coordinates[0] - 0.8) * (pt.coordinates[0] - 0.8) + 0.1
        }
        let grid = try GridSpec.parse(["-0.5:2.5:13"], dimensions: 1)
        let m = LandscapeSweep.manifest(plane: prepared.plane, grid: grid, inputs: [base, a, b], evaluator: eval.summary,
                                        valueName: "eps_mse t=0:250")
        let out = dir.appendingPathComponent("line").path
        let o = try SweepSession.run(manifest: m, evaluator: eval, directory: out, options: SweepRunOptions())
        let files = try LandscapeSweep.writeOutputs(manifest: m, records: o.records, directory: out)
        let s = LandscapeSurface.from(manifest: m, records: o.records)
        XCTAssertTrue(s.isLine)
        XCTAssertEqual(s.failedCount, 1)
        XCTAssertEqual(s.values.count, 13)
        XCTAssertEqual(s.values[3][0], 0.55 * 0.55 + 0.1, accuracy: 1e-12)
        XCTAssertTrue(s.offGridMarkers.isEmpty)
        XCTAssertEqual(s.best?.x, 0.75)
        // The plot is a line plot: its title names the score, and the failed band is hatched.
        let png = try PNGDecoder.decode(Array(Data(contentsOf: URL(fileURLWithPath: files.plot))), source: files.plot)
        XCTAssertEqual(png.width, LinePlot.width)
        let canvas = LinePlot.render(s)
        let xFailed = LinePlot.plotX + Int((2.0 / 3.0 * Double(LinePlot.plotW - 1)).rounded())
        let band = (0..<8).map { canvas.pixel(x: xFailed - 4 + $0, y: LinePlot.plotY + 30) }
        XCTAssertTrue(band.contains(Hatching.stroke) && band.contains(Hatching.background), "\(band)")
        XCTAssertEqual(ScoreLabel.describe(valueName: s.valueName, evaluator: s.evaluator), "held-out eps-MSE, t in [0, 250)")
    }
}

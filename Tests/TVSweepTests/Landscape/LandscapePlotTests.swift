import XCTest
import TVImage
@testable import TVSweep

final class LandscapePlotTests: XCTestCase {
    func testHeatmapMarkersAndMissingCells() {
        let xs = [0.0, 0.5, 1.0], ys = [0.0, 0.5, 1.0]
        var values = xs.map { x in ys.map { y in x + y } }
        values[2][2] = .nan
        let s = LandscapeSurface(xs: xs, ys: ys, values: values, axisNames: ["a", "b"], axisDescriptions: ["a", "b"],
                                 basis: "coefficients", valueName: "v", evaluator: "t", goal: .minimize,
                                 markers: [PlaneMarker(label: "base", x: 0, y: 0), PlaneMarker(label: "far", x: 5, y: 5)],
                                 best: PlaneMarker(label: "best", x: 0.5, y: 0.5), bestValue: 1)
        let c = LandscapePlot.render(s, contours: 0)
        let x0 = LandscapePlot.plotX, y0 = LandscapePlot.plotY, n = LandscapePlot.plotSize
        // Low values (bottom-left) are dark purple, high (top-left: a=0, b=1 → 1; right-middle) greener.
        XCTAssertEqual(c.pixel(x: x0 + 20, y: y0 + n - 20).map { $0.r < 90 && $0.b > 80 }, true)
        // The missing top-right cell is light gray (below the off-grid marker clamped into that corner).
        XCTAssertEqual(c.pixel(x: x0 + n - 3, y: y0 + 20), .lightGray)
        // The off-grid marker is still drawn, grey, inside the frame's corner, and reported.
        XCTAssertEqual(c.pixel(x: x0 + n - 4, y: y0 + 3), .gray)
        XCTAssertEqual(s.offGridMarkers.map(\.label), ["far"])
        // The best point's star is red at the centre.
        XCTAssertEqual(c.pixel(x: x0 + (n - 1) / 2, y: y0 + (n - 1) / 2 + 1), .red)
        XCTAssertEqual(LandscapePlot.niceTicks(-0.2, 1.2), [0, 0.5, 1])
        XCTAssertEqual(LandscapePlot.niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1])
    }

    func surface(_ values: [[Double]], failed: [[Bool]]) -> LandscapeSurface {
        LandscapeSurface(xs: [0, 0.5, 1], ys: [0, 0.5, 1], values: values, axisNames: ["a", "b"], axisDescriptions: ["a", "b"],
                         basis: "coefficients", valueName: "eps_mse t=0:250", evaluator: "builtin", goal: .minimize,
                         markers: [PlaneMarker(label: "base", x: 0, y: 0)], best: nil, bestValue: nil, failed: failed)
    }

    func isHatch(_ p: RGB?) -> Bool { p == Hatching.background || p == Hatching.stroke }

    func testFailedPointsAreHatchedAndTheScaleUsesFiniteValuesOnly() {
        // The failed centre point has no value; the scale spans the finite values 0...4.
        var values = [[0.0, 1, 2], [1, 0, 3], [2, 3, 4]]
        var failed = Array(repeating: Array(repeating: false, count: 3), count: 3)
        failed[1][1] = true
        values[1][1] = .nan
        let c = LandscapePlot.render(surface(values, failed: failed), contours: 0)
        let x0 = LandscapePlot.plotX, y0 = LandscapePlot.plotY, n = LandscapePlot.plotSize
        // Around the centre: hatched, in both colours.
        let centre = (0..<12).map { c.pixel(x: x0 + n / 2 - 6 + $0, y: y0 + n / 2 - 20) }
        XCTAssertTrue(centre.allSatisfy(isHatch), "\(centre)")
        XCTAssertTrue(centre.contains(Hatching.stroke) && centre.contains(Hatching.background))
        // Top-right (value 4, the largest finite value) is the top of viridis.
        XCTAssertEqual(c.pixel(x: x0 + n - 1, y: y0), ColorMap.viridis.color(at: 1))
        XCTAssertEqual(surface(values, failed: failed).failedCount, 1)
    }

    func testAllFailedDrawsNoColourScale() {
        let values = Array(repeating: Array(repeating: Double.nan, count: 3), count: 3)
        let failed = Array(repeating: Array(repeating: true, count: 3), count: 3)
        let c = LandscapePlot.render(surface(values, failed: failed))
        let x0 = LandscapePlot.plotX, y0 = LandscapePlot.plotY, n = LandscapePlot.plotSize
        for (x, y) in [(x0 + 50, y0 + 60), (x0 + n - 30, y0 + 200), (LandscapePlot.barX + 5, y0 + 100)] {
            XCTAssertTrue(isHatch(c.pixel(x: x, y: y)), "(\(x), \(y))")
        }
        // Nowhere in the colour bar's column is a viridis colour.
        let viridis = Set((0...20).map { ColorMap.viridis.color(at: Double($0) / 20) })
        XCTAssertFalse((0..<n).contains { viridis.contains(c.pixel(x: LandscapePlot.barX + 9, y: y0 + $0)!) })
    }

    /// The centre of the best point's red star inside the plot area (the legend's star excluded).
    func starCentre(_ c: Canvas, x0: Int, y0: Int, width: Int, height: Int) -> (Int, Int)? {
        var xs: [Int] = [], ys: [Int] = []
        for y in y0..<(y0 + height) { for x in x0..<(x0 + width) where c.pixel(x: x, y: y) == .red { xs.append(x); ys.append(y) } }
        guard !xs.isEmpty else { return nil }
        return ((xs.min()! + xs.max()!) / 2, (ys.min()! + ys.max()!) / 2)
    }

    /// A checkpoint that is also the best point rings the star (white fill, black outline 10-11 px
    /// out) instead of vanishing under it: in heatmaps and in line plots.
    func testCheckpointUnderTheBestStarStaysVisible() throws {
        let xs = [-0.5, 0, 0.5, 1], ys = [-0.5, 0, 0.5, 1]
        let values = xs.map { x in ys.map { y in x * x + y * y } }
        let plane = LandscapeSurface(xs: xs, ys: ys, values: values, axisNames: ["a", "b"], axisDescriptions: ["a", "b"],
                                     basis: "coefficients", valueName: "v", evaluator: "t", goal: .minimize,
                                     markers: [PlaneMarker(label: "base", x: 0, y: 0), PlaneMarker(label: "A", x: 1, y: 0)],
                                     best: PlaneMarker(label: "best", x: 0, y: 0), bestValue: 0)
        let c = LandscapePlot.render(plane, contours: 0)
        let (sx, sy) = try XCTUnwrap(starCentre(c, x0: LandscapePlot.plotX, y0: LandscapePlot.plotY,
                                                width: LandscapePlot.plotSize, height: LandscapePlot.plotSize))
        for (dx, dy) in [(0, -1), (0, 1), (-1, 0), (1, 0)] {
            XCTAssertEqual(c.pixel(x: sx + 10 * dx, y: sy + 10 * dy), .white, "heatmap, direction \(dx),\(dy)")
            XCTAssertEqual(c.pixel(x: sx + 11 * dx, y: sy + 11 * dy), .black, "heatmap, direction \(dx),\(dy)")
        }
        let ts = [-0.5, 0, 0.5, 1, 1.5]
        let line = LandscapeSurface(xs: ts, ys: [0], values: ts.map { [($0 - 0.1) * ($0 - 0.1) + 1] }, axisNames: ["t"],
                                    axisDescriptions: ["t"], basis: "line", valueName: "v", evaluator: "t", goal: .minimize,
                                    markers: [PlaneMarker(label: "base", x: 0, y: 0), PlaneMarker(label: "A", x: 1, y: 0)],
                                    best: PlaneMarker(label: "best", x: 0, y: 0), bestValue: 1.01)
        let l = LinePlot.render(line)
        let (lx, ly) = try XCTUnwrap(starCentre(l, x0: LinePlot.plotX, y0: LinePlot.plotY, width: LinePlot.plotW, height: LinePlot.plotH))
        for dy in [-1, 1] {
            XCTAssertEqual(l.pixel(x: lx, y: ly + 10 * dy), .white, "line plot, direction \(dy)")
            XCTAssertEqual(l.pixel(x: lx, y: ly + 11 * dy), .black, "line plot, direction \(dy)")
        }
    }

    func testScoreLabels() {
        XCTAssertEqual(ScoreLabel.describe(valueName: "eps_mse t=0:250", evaluator: "builtin"), "held-out eps-MSE, t in [0, 250)")
        XCTAssertEqual(ScoreLabel.describe(valueName: "eps_mse", evaluator: "builtin"), "held-out eps-MSE, all t")
        XCTAssertEqual(ScoreLabel.describe(valueName: "score", evaluator: "command: x {checkpoint} (candidates as .safetensors, score field fid)"), "fid")
        XCTAssertEqual(ScoreLabel.describe(valueName: "score", evaluator: "command: x (candidates as .safetensors, score number)"), "score")
        XCTAssertEqual(ScoreLabel.describe(valueName: "accuracy", evaluator: "anything"), "accuracy")
    }
}

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
        // The missing top-right cell is light gray.
        XCTAssertEqual(c.pixel(x: x0 + n - 3, y: y0 + 3), .lightGray)
        // The best point's star is red at the centre.
        XCTAssertEqual(c.pixel(x: x0 + (n - 1) / 2, y: y0 + (n - 1) / 2 + 1), .red)
        XCTAssertEqual(LandscapePlot.niceTicks(-0.2, 1.2), [0, 0.5, 1])
        XCTAssertEqual(LandscapePlot.niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1])
    }
}

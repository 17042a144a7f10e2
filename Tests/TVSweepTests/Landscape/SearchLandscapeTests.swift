import XCTest
import TVImage
import TVSearch
@testable import TVSweep

/// A search over two weights drawn as a landscape: grid values as the heatmap, every evaluated
/// point as a dot in its own colour, inputs as markers, failed points distinct.
final class SearchLandscapeTests: XCTestCase {
    func manifest(evaluator: String = "command: x {checkpoint} (candidates as .safetensors, score field fid)",
                  inputs: [String] = ["/m/base.safetensors", "/m/r0.safetensors", "/m/r1.safetensors"]) -> SweepManifest {
        SweepManifest(kind: "search", axisNames: ["w1", "w2"], grid: GridSpec(axes: [AxisSpec(values: [0, 0.5, 1]), AxisSpec(values: [0, 0.5, 1])]),
                      strategy: .grid, inputs: inputs, evaluator: evaluator)
    }

    func record(_ x: Double, _ y: Double, _ v: Double?, index: Int) -> PointRecord {
        PointRecord(point: SweepPoint(coordinates: [x, y], index: index), status: v == nil ? .failed : .ok, value: v, seconds: 0)
    }

    func testSurfaceFromGridAndOffGridRecords() throws {
        var records = RecordSet()
        var k = 0
        for x in [0.0, 0.5, 1] { for y in [0.0, 0.5, 1] where !(x == 1 && y == 1) { records.add(record(x, y, x + 2 * y, index: k)); k += 1 } }
        records.add(record(1, 1, nil, index: k))            // failed grid point
        records.add(record(0.25, 0.25, 0.2, index: k + 1))  // a refinement point off the grid
        let s = try XCTUnwrap(SearchLandscape.surface(manifest: manifest(), records: records))
        XCTAssertEqual(s.values[1][2], 0.5 + 2 * 1)
        XCTAssertEqual(s.failedCount, 1)
        XCTAssertEqual(s.points.count, 10)
        XCTAssertEqual(s.points.last, PlotPoint(x: 0.25, y: 0.25, value: 0.2))
        XCTAssertEqual(s.best, PlaneMarker(label: "best", x: 0, y: 0))
        XCTAssertEqual(s.markers, [PlaneMarker(label: "base", x: 0, y: 0), PlaneMarker(label: "r0.safetensors", x: 1, y: 0),
                                   PlaneMarker(label: "r1.safetensors", x: 0, y: 1)])
        XCTAssertEqual(s.scoreLabel, "fid")

        let c = LandscapePlot.render(s, contours: 0)
        let x0 = LandscapePlot.plotX, y0 = LandscapePlot.plotY, n = LandscapePlot.plotSize
        func px(_ x: Double) -> Int { x0 + Int((x * Double(n - 1)).rounded()) }
        func py(_ y: Double) -> Int { y0 + n - 1 - Int((y * Double(n - 1)).rounded()) }
        // The off-grid point is a dot in its own value's colour (0.2 on the scale 0…2.5) with a black
        // outline; the heatmap around it (bilinear between grid points: 0.75 there) is another colour.
        let own = ColorMap.viridis.color(at: 0.2 / 2.5)
        XCTAssertEqual(c.pixel(x: px(0.25), y: py(0.25)), own)
        XCTAssertEqual(c.pixel(x: px(0.25) + 4, y: py(0.25)), .black)
        XCTAssertNotEqual(c.pixel(x: px(0.25) + 8, y: py(0.25)), own)
        // The failed point (1, 1) is a black cross over the hatched corner.
        XCTAssertEqual(c.pixel(x: px(1) - 3, y: py(1) + 3), .black)
        XCTAssertTrue([Hatching.background, Hatching.stroke].contains(c.pixel(x: px(1) - 12, y: py(1) + 12)!))
    }

    /// A search's heatmap and a landscape's surface read the grid the same way (one lookup):
    /// on a grid given in descending order the search's sorted surface is the landscape's, mirrored.
    func testSearchAndLandscapeShareTheGridLookup() throws {
        let axes = [AxisSpec(values: [1, 0.5, 0]), AxisSpec(values: [1, 0])]
        let m = SweepManifest(kind: "search", axisNames: ["w1", "w2"], grid: GridSpec(axes: axes), strategy: .grid,
                              inputs: ["/m/base.safetensors", "/m/r0.safetensors", "/m/r1.safetensors"], evaluator: "e")
        var records = RecordSet()
        records.add(record(0.5, 1, 3, index: 0))
        records.add(record(0, 0, nil, index: 1))
        records.add(record(0.3, 0.7, 9, index: 2))  // off the grid: a dot only
        let search = try XCTUnwrap(SearchLandscape.surface(manifest: m, records: records))
        let landscape = LandscapeSurface.from(manifest: m, records: records)
        XCTAssertEqual(search.xs, [0, 0.5, 1])
        XCTAssertEqual(landscape.xs, [1, 0.5, 0])
        for i in 0..<3 {
            for j in 0..<2 {
                let a = search.values[i][j], b = landscape.values[2 - i][1 - j]
                XCTAssertTrue(a == b || (a.isNaN && b.isNaN), "\(i),\(j): \(a) vs \(b)")
                XCTAssertEqual(search.isFailed(i, j), landscape.isFailed(2 - i, 1 - j))
            }
        }
        XCTAssertEqual(search.values[1][1], 3)
        XCTAssertTrue(search.isFailed(0, 0))
        XCTAssertEqual(search.points.count, 3)
    }

    func testOnlyTwoAxisSearchesArePlottedAndValueNames() {
        let three = SweepManifest(kind: "search", axisNames: ["w1", "w2", "w3"],
                                  grid: GridSpec(axes: Array(repeating: AxisSpec(values: [0, 1]), count: 3)),
                                  inputs: ["b", "x", "y", "z"], evaluator: "e")
        XCTAssertNil(SearchLandscape.surface(manifest: three, records: RecordSet()))
        XCTAssertEqual(SearchLandscape.valueName(evaluator: "builtin eps-mse on digits held-out 1 (149 images x 4 timesteps, seed 0), t in [0, 250)"),
                       "eps_mse t=0:250")
        XCTAssertEqual(SearchLandscape.valueName(evaluator: "builtin eps-mse on digits held-out 1 (149 images x 4 timesteps, seed 0)"), "eps_mse")
        XCTAssertEqual(SearchLandscape.valueName(evaluator: "command: ./fid.sh"), "score")
        // One model with two layer groups: the model sits at (1, 1).
        var m = manifest(inputs: ["/m/base.safetensors", "/m/ft.safetensors"])
        m.settings["block_groups"] = "top: a,b"
        XCTAssertEqual(SearchLandscape.markers(manifest: m), [PlaneMarker(label: "base", x: 0, y: 0), PlaneMarker(label: "ft.safetensors", x: 1, y: 1)])
    }
}

import XCTest
@testable import TVSearch

final class GridSpecTests: XCTestCase {
    func testCountStepAndListForms() throws {
        let count = try AxisSpec.parse("-0.2:1.2:29")
        XCTAssertEqual(count.values.count, 29)
        XCTAssertEqual(count.values.first, -0.2)
        XCTAssertEqual(count.values.last, 1.2)
        XCTAssertEqual(count.values[4], 0.0)
        let step = try AxisSpec.parse("0:1:step0.1")
        XCTAssertEqual(step.values, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
        XCTAssertEqual(try AxisSpec.parse("0:1:11").values, step.values)
        XCTAssertEqual(try AxisSpec.parse("0:1:5").values, [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(try AxisSpec.parse("0:10:step1").values.count, 11)
        XCTAssertEqual(try AxisSpec.parse("0:10:1").values, [0])
        XCTAssertEqual(try AxisSpec.parse("0:1:n=3").values, [0, 0.5, 1])
        XCTAssertEqual(try AxisSpec.parse("0:1:step=0.5").values, [0, 0.5, 1])
        XCTAssertEqual(try AxisSpec.parse("0,0.1,0.5").values, [0, 0.1, 0.5])
        XCTAssertEqual(try AxisSpec.parse("0.3").values, [0.3])
        for bad in ["1:0:3", "0:1:0", "0:1:step-0.1", "a:1:2", "0,0", "0:1", "0:1:2:3", "0:1:nan", "0:1:step0"] {
            XCTAssertThrowsError(try AxisSpec.parse(bad), bad)
        }
        // A bare decimal third field is ambiguous (step or count?): refused, naming both spellings.
        for ambiguous in ["0:1:0.1", "0:1:0.25", "0:10:1.0", "0:1:1e-1"] {
            XCTAssertThrowsError(try AxisSpec.parse(ambiguous), ambiguous) { e in
                XCTAssertTrue("\(e)".contains("step") && "\(e)".contains("ambiguous"), "\(e)")
            }
        }
    }

    func testRowMajorPointsAndStableIDs() throws {
        let g = try GridSpec.parse(["0:1:2", "0,5,7"], dimensions: 2)
        XCTAssertEqual(g.shape, [2, 3])
        XCTAssertEqual(g.points().map(\.id), ["0,0", "0,5", "0,7", "1,0", "1,5", "1,7"])
        XCTAssertEqual(g.point(at: 4).coordinates, [1, 5])
        let same = try GridSpec.parse(["0:1:3"], dimensions: 3)
        XCTAssertEqual(same.pointCount, 27)
        XCTAssertThrowsError(try GridSpec.parse(["0:1:2", "0:1:2"], dimensions: 3))
    }

    func testShardsPartitionThePointsStrided() throws {
        let pts = try GridSpec.parse(["0:1:5"], dimensions: 2).points()
        var union: [String] = []
        for i in 0..<3 {
            let s = try ShardSpec.parse("\(i)/3")
            let mine = s.select(pts)
            XCTAssertTrue(mine.allSatisfy { $0.index % 3 == i })
            union += mine.map(\.id)
        }
        XCTAssertEqual(union.sorted(), pts.map(\.id).sorted())
        XCTAssertThrowsError(try ShardSpec.parse("3/3"))
        XCTAssertThrowsError(try ShardSpec.parse("-1/3"))
        XCTAssertThrowsError(try ShardSpec.parse("1-3"))
    }

    func testRefinementZoomsAroundTheBest() throws {
        let initial = try GridSpec.parse(["0:1:5"], dimensions: 2)
        let r = try Refinement(rounds: 2, pointsPerAxis: 5)
        let g1 = r.grid(round: 1, initial: initial, best: [0.5, 0.25])
        XCTAssertEqual(g1.axes[0].values, [0.25, 0.375, 0.5, 0.625, 0.75])
        XCTAssertEqual(g1.axes[1].values, [0, 0.125, 0.25, 0.375, 0.5])
        let g2 = r.grid(round: 2, initial: initial, best: [0.5, 0.25])
        XCTAssertEqual(g2.axes[0].values, [0.375, 0.4375, 0.5, 0.5625, 0.625])
    }

    func testRefinementHalvesTheStepAndStaysInsideTheGrid() throws {
        let initial = try GridSpec.parse(["0:1:5"], dimensions: 2)
        let r = try Refinement(rounds: 3)  // 3 points per axis: {b - s/2^r, b, b + s/2^r}
        XCTAssertEqual(r.grid(round: 1, initial: initial, best: [0.5, 0.25]).axes.map(\.values), [[0.375, 0.5, 0.625], [0.125, 0.25, 0.375]])
        XCTAssertEqual(r.grid(round: 2, initial: initial, best: [0.5, 0.25]).axes[0].values, [0.4375, 0.5, 0.5625])
        // At the bounds the window is clamped: w = 1 never becomes 1.125, w = 0 never -0.125.
        XCTAssertEqual(r.grid(round: 1, initial: initial, best: [1, 0]).axes.map(\.values), [[0.875, 1], [0, 0.125]])
        let beyond = try Refinement(rounds: 1, beyondBounds: true)
        XCTAssertEqual(beyond.grid(round: 1, initial: initial, best: [1, 0]).axes.map(\.values), [[0.875, 1, 1.125], [-0.125, 0, 0.125]])
        XCTAssertThrowsError(try Refinement(rounds: 1, pointsPerAxis: 4))
    }
}

import XCTest
@testable import TVDeMe

final class WeightSearchTests: XCTestCase {
    func testGridParsing() throws {
        XCTAssertEqual(try WeightGrid(parsing: "0:1:0.25").values, [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(try WeightGrid(parsing: "0:1:0.1").values.count, 11)
        XCTAssertEqual(try WeightGrid(parsing: "0:1:0.1").values[3], 0.3)
        XCTAssertEqual(try WeightGrid(parsing: "0.5, 0,0.1").values, [0, 0.1, 0.5])
        XCTAssertThrowsError(try WeightGrid(parsing: "0:1:0"))
        XCTAssertThrowsError(try WeightGrid(parsing: "1:0:0.1"))
        XCTAssertThrowsError(try WeightGrid(parsing: "0,x"))
    }

    func testFullGridFindsTheGridMinimumAndRecordsEveryPoint() throws {
        let g = try WeightGrid(parsing: "0:1:0.25")
        let search = try WeightSearch(grids: [g, g], workers: 2)
        let r = try search.run { w, _ in (w[0] - 0.3) * (w[0] - 0.3) + (w[1] - 0.8) * (w[1] - 0.8) }
        XCTAssertEqual(r.points.count, 25)
        XCTAssertEqual(r.best.weights, [0.25, 0.75])
        XCTAssertEqual(r.best.objective, r.points.map(\.objective).min())
    }

    func testRefinementMovesTowardsTheContinuousMinimumWithoutLeavingTheBounds() throws {
        let g = try WeightGrid(parsing: "0:1:0.25")
        let search = try WeightSearch(grids: [g, g], refinements: 3, workers: 2)
        let r = try search.run { w, _ in (w[0] - 0.3) * (w[0] - 0.3) + (w[1] - 1.4) * (w[1] - 1.4) }
        XCTAssertEqual(r.best.weights[0], 0.3, accuracy: 0.25 / 16 + 1e-9)
        XCTAssertEqual(r.best.weights[1], 1.0)   // clamped at the grid's upper bound
        XCTAssertEqual(Set(r.points.map(\.round)), [0, 1, 2, 3])
        // No candidate is evaluated twice.
        XCTAssertEqual(Set(r.points.map(\.weights)).count, r.points.count)
    }

    func testResultIsIndependentOfWorkerCountAndPassesWorkerIndex() throws {
        let g = try WeightGrid(parsing: "0:1:0.1")
        let f: @Sendable ([Double], Int) throws -> Double = { w, worker in
            precondition(worker >= 0 && worker < 3)
            return abs(w[0] - 0.55) + abs(w[1] - 0.15)
        }
        let a = try WeightSearch(grids: [g, g], refinements: 1, workers: 1).run(objective: f)
        let b = try WeightSearch(grids: [g, g], refinements: 1, workers: 3).run(objective: f)
        XCTAssertEqual(a.points, b.points)
        XCTAssertEqual(a.best, b.best)
    }

    func testErrorsPropagateAndNonFiniteObjectivesAreNotChosen() throws {
        let g = try WeightGrid(parsing: "0,1")
        struct Boom: Error {}
        XCTAssertThrowsError(try WeightSearch(grids: [g], workers: 2).run { _, _ in throw Boom() })
        let r = try WeightSearch(grids: [g]).run { w, _ in w[0] == 0 ? .nan : 5 }
        XCTAssertEqual(r.best.weights, [1])
    }

    func testSearchLogFormats() throws {
        let pts = [SearchPoint(round: 0, weights: [0, 0.5], objective: 0.1), SearchPoint(round: 1, weights: [0.25, 0.5], objective: 0.05)]
        let csv = SearchLog.csv(pts, weightNames: ["w1", "w2"])
        XCTAssertEqual(csv, "round,w1,w2,objective\n0,0.0,0.5,0.1\n1,0.25,0.5,0.05\n")
        let lines = try SearchLog.jsonLines(pts).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let back = try JSONDecoder().decode(SearchPoint.self, from: Data(lines[1].utf8))
        XCTAssertEqual(back, pts[1])
    }
}

import XCTest
@testable import TVSearch

/// Strategies against independent references: scipy's Sobol points, Hansen's published CMA-ES
/// defaults, and minima known in closed form.
final class StrategyTests: XCTestCase {
    /// Runs a trajectory on `f` (no records, no files) and returns the points in evaluation order.
    private func drive(_ spec: SearchSpec, _ f: ([Double]) -> Double) -> [(coords: [Double], value: Double)] {
        let t = SearchTrajectory(spec: spec)
        var seen: [String: Double] = [:]
        var order: [(coords: [Double], value: Double)] = []
        while let batch = t.nextBatch() {
            var values: [String: Double?] = [:]
            for p in batch {
                if seen[p.id] == nil { let v = f(p.coordinates); seen[p.id] = v; order.append((p.coordinates, v)) }
                values[p.id] = seen[p.id]!
            }
            t.tell(values)
        }
        return order
    }

    func testSobolFirstPointsAreScipysUnscrambledSequence() throws {
        // scipy.stats.qmc.Sobol(d=4, scramble=False).random(8) (Joe–Kuo new-joe-kuo-6.21201).
        let expected: [[Double]] = [[0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5], [0.75, 0.25, 0.25, 0.25], [0.25, 0.75, 0.75, 0.75],
                                    [0.375, 0.375, 0.625, 0.875], [0.875, 0.875, 0.125, 0.375], [0.625, 0.125, 0.875, 0.625],
                                    [0.125, 0.625, 0.375, 0.125]]
        let s = try Sobol(dimensions: 4)
        XCTAssertEqual((0..<8).map(s.point), expected)
        XCTAssertThrowsError(try Sobol(dimensions: 22))
    }

    func testSobolMatchesScipyInAllTwentyOneDimensions() throws {
        guard let python = TestPaths.python(with: ["scipy"]) else { throw XCTSkip("python3 with scipy is needed for this cross-check") }
        let run = try TestPaths.runPython(python, script: """
            import json
            from scipy.stats import qmc
            print(json.dumps(qmc.Sobol(d=21, scramble=False).random(256).tolist()))
            """)
        XCTAssertEqual(run.status, 0, run.stderr)
        let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: run.stdout) as? [[Double]])
        let s = try Sobol(dimensions: 21)
        for (n, row) in expected.enumerated() { XCTAssertEqual(s.point(n), row, "point \(n)") }
    }

    func testCMAESUsesHansensDefaultParameters() {
        // N = 4: (4_w, 8)-CMA-ES, mu_eff = 2.6 (Hansen, "The CMA Evolution Strategy: A Tutorial", Table 1).
        let grid = GridSpec(axes: Array(repeating: AxisSpec(values: [0, 1]), count: 4))
        let c = CMAESProposer(box: SampleBox(grid: grid), seed: 0)
        XCTAssertEqual(c.lambda, 8)
        XCTAssertEqual(c.mu, 4)
        XCTAssertEqual(c.mueff, 2.6002, accuracy: 1e-4)
        XCTAssertEqual(c.weights.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertEqual(c.weights[0] / c.weights[1], log(4.5) / (log(4.5) - log(2)), accuracy: 1e-12)
        XCTAssertEqual(c.cc, 0.5, accuracy: 1e-12)  // (4 + mu_eff/N) / (N + 4 + 2 mu_eff/N) = 0.5 exactly here
        XCTAssertEqual(c.c1, 2 / (5.3 * 5.3 + c.mueff), accuracy: 1e-15)
        XCTAssertEqual(c.chiN, 2 * (1 - 1.0 / 16 + 1.0 / 336), accuracy: 1e-15)
    }

    func testCMAESFindsTheMinimumOfARotatedEllipsoidInTheBox() throws {
        let center = [0.3, 0.62, 0.2, 0.71]
        // Ill-conditioned (1 : 100) and rotated, so only an adapted covariance converges fast.
        func f(_ x: [Double]) -> Double {
            let d = zip(x, center).map { $0 - $1 }
            let u = (d[0] + d[1]) / 2.0.squareRoot(), v = (d[0] - d[1]) / 2.0.squareRoot()
            return u * u + 100 * v * v + 10 * (d[2] + d[3]) * (d[2] + d[3]) + (d[2] - d[3]) * (d[2] - d[3])
        }
        let grid = try GridSpec.parse(["0:1:3"], dimensions: 4)
        for seed: UInt64 in [0, 1] {
            let spec = try SearchSpec(strategy: .cmaes, grid: grid, maxEvals: 600, seed: seed)
            let points = drive(spec, f)
            XCTAssertLessThanOrEqual(points.count, 600)
            let best = points.min { $0.value < $1.value }!
            XCTAssertLessThan(best.value, 1e-6, "seed \(seed): best \(best)")
            XCTAssertTrue(points.allSatisfy { $0.coords.allSatisfy { $0 >= 0 && $0 <= 1 } }, "left the box")
        }
    }

    func testCoordinateDescentReachesTheGridMinimumWithFewEvaluations() throws {
        let grid = try GridSpec.parse(["0:1:11"], dimensions: 4)
        let target = [0.3, 0.7, 0.1, 0.9]
        func f(_ x: [Double]) -> Double {
            let d = zip(x, target).map { $0 - $1 }
            return d.map { $0 * $0 }.reduce(0, +) + 0.5 * d[0] * d[1]
        }
        let spec = try SearchSpec(strategy: .coord, grid: grid)
        let points = drive(spec, f)
        let best = points.min { $0.value < $1.value }!
        XCTAssertEqual(best.coords, target)
        XCTAssertLessThan(points.count, grid.pointCount / 10)
        XCTAssertLessThanOrEqual(points.count, spec.cost.evaluations)
        // Every proposal lies on the grid.
        let values = Set(grid.axes[0].values)
        XCTAssertTrue(points.allSatisfy { $0.coords.allSatisfy(values.contains) })
    }

    /// Regression: the first line search had no value for the start point, so when the start tied
    /// with an earlier grid value (a flat axis) coord moved there instead of staying put.
    func testCoordinateDescentKeepsItsStartOnTies() throws {
        let grid = try GridSpec.parse(["0:1:5"], dimensions: 2)
        // Flat in x; a minimum at y = 0.75. From the centre (0.5, 0.5) coord must end at (0.5, 0.75).
        let points = drive(try SearchSpec(strategy: .coord, grid: grid), { x in (x[1] - 0.75) * (x[1] - 0.75) })
        let best = points.min { $0.value < $1.value }!
        XCTAssertEqual(best.coords, [0.5, 0.75])
        // x stays 0.5: y is only line-searched there (other x values appear on x-lines at y = 0.5, 0.75).
        XCTAssertTrue(points.allSatisfy { $0.coords[0] == 0.5 || [0.5, 0.75].contains($0.coords[1]) }, "moved along the flat axis: \(points.map(\.coords))")
        // The same from an explicit start, and with a tie that is not flat: f(0) = f(start) on x.
        let start = [0.75, 0.25]
        let tied = drive(try SearchSpec(strategy: .coord, grid: grid, start: start), { x in
            abs(x[0] - 0.375) + (x[1] - 0.25) * (x[1] - 0.25)  // |0 - 0.375| = |0.75 - 0.375|
        })
        // x = 0.25 and 0.5 are strictly better than the start (0.125 < 0.375): coord moves to 0.25, the first of them.
        XCTAssertEqual(tied.min { $0.value < $1.value }!.coords, [0.25, 0.25])
        // Everything ties: coord never leaves the start (every proposal is on an axis line through it).
        let flat = drive(try SearchSpec(strategy: .coord, grid: grid, start: start), { _ in 1 })
        XCTAssertEqual(Set(flat.map { $0.coords[0] == start[0] || $0.coords[1] == start[1] }), [true])
    }

    func testStartPointIsWhereCoordAndCMAESBeginAndTheManifestKeepsIt() throws {
        let grid = try GridSpec.parse(["0:1:5"], dimensions: 3)
        // coord: the first batch varies axis 0 with the others at the grid values nearest the start.
        let coord = SearchTrajectory(spec: try SearchSpec(strategy: .coord, grid: grid, start: [0.9, 0.1, 0.62]))
        let first = try XCTUnwrap(coord.nextBatch())
        XCTAssertEqual(first.map { $0.coordinates[0] }, [0, 0.25, 0.5, 0.75, 1])
        XCTAssertTrue(first.allSatisfy { Array($0.coordinates.dropFirst()) == [0, 0.5] })
        // A start at the minimum of a separable quadratic: coord never moves, so every point it
        // proposes differs from the start in one axis only.
        let target = [0.25, 0.75, 1.0]
        func f(_ x: [Double]) -> Double {
            var s = 0.0
            for i in x.indices { s += (x[i] - target[i]) * (x[i] - target[i]) }
            return s
        }
        let points = drive(try SearchSpec(strategy: .coord, grid: grid, start: target), f)
        func moved(_ c: [Double]) -> Int { c.indices.filter { c[$0] != target[$0] }.count }
        XCTAssertTrue(points.allSatisfy { moved($0.coords) <= 1 })
        XCTAssertEqual(points.min { $0.value < $1.value }?.coords, target)
        // cmaes: the first generation is centred near the start (sigma 0.3 of the box).
        let cmaes = SearchTrajectory(spec: try SearchSpec(strategy: .cmaes, grid: grid, maxEvals: 50, start: [0.9, 0.9, 0.9]))
        let gen = try XCTUnwrap(cmaes.nextBatch())
        let mean = (0..<3).map { a in gen.map { $0.coordinates[a] }.reduce(0, +) / Double(gen.count) }
        XCTAssertTrue(mean.allSatisfy { $0 > 0.6 }, "\(mean)")
        XCTAssertThrowsError(try SearchSpec(strategy: .coord, grid: grid, start: [0.5]))
        // The manifest round-trips the start point and old manifests (without one) still decode.
        let m = SweepManifest(kind: "search", axisNames: ["a", "b", "c"], grid: grid, strategy: .coord, inputs: ["x"],
                              evaluator: "e", start: [0.9, 0.1, 0.62])
        let decoded = try JSONDecoder().decode(SweepManifest.self, from: JSONEncoder().encode(m))
        XCTAssertEqual(decoded.start, [0.9, 0.1, 0.62])
        XCTAssertEqual(try decoded.search.start, [0.9, 0.1, 0.62])
        var old = m
        old.start = nil
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(old), as: UTF8.self).contains("start"))
        XCTAssertFalse(old.sameSearch(as: m))
    }

    func testDryRunCostIsExactForGridRandomAndSobolAndABoundOtherwise() throws {
        let grid = try GridSpec.parse(["0:1:5", "0:2:3", "0.5"], dimensions: 3)
        let f: ([Double]) -> Double = { x in (x[0] - 0.4) * (x[0] - 0.4) + (x[1] - 1.2) * (x[1] - 1.2) }
        for (strategy, budget) in [(SearchStrategy.grid, nil), (.grid, 7), (.random, 9), (.sobol, 12)] as [(SearchStrategy, Int?)] {
            let spec = try SearchSpec(strategy: strategy, grid: grid, maxEvals: budget, seed: 3)
            XCTAssertTrue(spec.cost.exact, "\(strategy)")
            XCTAssertEqual(drive(spec, f).count, spec.cost.evaluations, "\(strategy) \(String(describing: budget))")
        }
        for (strategy, budget) in [(SearchStrategy.coord, nil), (.coord, 4), (.cmaes, 40), (.grid, nil)] as [(SearchStrategy, Int?)] {
            let spec = try SearchSpec(strategy: strategy, grid: grid, refinement: strategy == .grid ? try Refinement(rounds: 2) : nil,
                                      maxEvals: budget)
            XCTAssertFalse(spec.cost.exact, "\(strategy)")
            XCTAssertLessThanOrEqual(drive(spec, f).count, spec.cost.evaluations, "\(strategy)")
        }
        XCTAssertThrowsError(try SearchSpec(strategy: .cmaes, grid: grid))  // needs --max-evals
    }

    func testSamplersAreSeededAndStayInTheBox() throws {
        let grid = try GridSpec.parse(["-1:1:3", "2:4:3"], dimensions: 2)
        let f: ([Double]) -> Double = { $0[0] + $0[1] }
        let a = drive(try SearchSpec(strategy: .random, grid: grid, maxEvals: 50, seed: 1), f).map(\.coords)
        let b = drive(try SearchSpec(strategy: .random, grid: grid, maxEvals: 50, seed: 1), f).map(\.coords)
        let c = drive(try SearchSpec(strategy: .random, grid: grid, maxEvals: 50, seed: 2), f).map(\.coords)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertTrue(a.allSatisfy { $0[0] >= -1 && $0[0] <= 1 && $0[1] >= 2 && $0[1] <= 4 })
        let s = drive(try SearchSpec(strategy: .sobol, grid: grid, maxEvals: 4), f).map(\.coords)
        XCTAssertEqual(s, [[-1, 2], [0, 3], [0.5, 2.5], [-0.5, 3.5]])
    }
}

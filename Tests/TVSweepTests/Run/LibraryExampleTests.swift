import XCTest
import TVSweep

/// The Swift example of docs/sweeps.md, run on tiny checkpoints (keeps the documented API honest).
final class LibraryExampleTests: XCTestCase {
    func testDocumentedLandscapeExampleRuns() throws {
        let dir = TestPaths.scratchDirectory("library-example")
        let (base, a, b) = try TinyCheckpoints.trio(in: dir)
        let land = dir.appendingPathComponent("land").path
        let prepared = try LandscapeSweep.prepare(base: base, a: a, b: b, plane: LandscapePlaneOptions(basis: .orthonormal))
        let family = prepared.family
        let evaluator = ClosureEvaluator(summary: "l2 norm") { point in
            let tensors = try family.materialize(at: point.coordinates)
            return try tensors.values.reduce(0.0) { acc, t in acc + (try t.floats()).reduce(0.0) { $0 + Double($1 * $1) } }
        }
        let grid = try GridSpec.parse(["-0.2:1.2:5"], dimensions: 2)
        let manifest = LandscapeSweep.manifest(plane: prepared.plane, grid: grid, inputs: [base, a, b],
                                               evaluator: evaluator.summary, valueName: "l2")
        let outcome = try SweepSession.run(manifest: manifest, evaluator: evaluator, directory: land,
                                           options: SweepRunOptions(jobs: 2))
        let files = try LandscapeSweep.writeOutputs(manifest: manifest, records: outcome.records, directory: land)
        XCTAssertEqual(outcome.evaluated, 25)
        XCTAssertTrue(FileManager.default.fileExists(atPath: files.surface))
        // The l2 norm is a convex quadratic over the plane: its minimum on the grid is unique.
        XCTAssertNotNil(outcome.records.best(.minimize))
    }
}

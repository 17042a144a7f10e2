import XCTest
@testable import TVSearch

final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var ids: [String] = []
    func add(_ id: String) { lock.lock(); ids.append(id); lock.unlock() }
}

final class SweepRunnerTests: XCTestCase {
    /// A bowl with its minimum at (0.3, 0.7); the point (1, 1) fails.
    private func bowl(_ counter: CallCounter) -> ClosureEvaluator {
        ClosureEvaluator(summary: "bowl") { p in
            counter.add(p.id)
            if p.coordinates == [1, 1] { throw EvaluationFailure(message: "corner fails") }
            return pow(p.coordinates[0] - 0.3, 2) + pow(p.coordinates[1] - 0.7, 2)
        }
    }

    private func manifest(refine: Int = 0) throws -> SweepManifest {
        SweepManifest(kind: "search", axisNames: ["w1", "w2"], grid: try GridSpec.parse(["0:1:0.25"], dimensions: 2),
                      refinement: refine > 0 ? try Refinement(rounds: refine, pointsPerAxis: 5) : nil,
                      inputs: [], evaluator: "bowl")
    }

    func testParallelRunRecordsEveryPointOnceAndResumeSkipsThem() throws {
        let path = TestPaths.scratchDirectory("runner").appendingPathComponent("records.jsonl").path
        let m = try manifest()
        let counter = CallCounter()
        let first = try SweepRunner(manifest: m, evaluator: bowl(counter), store: RecordStore(path: path, manifest: m),
                                    options: SweepRunOptions(jobs: 3)).run()
        XCTAssertEqual(first.evaluated, 25)
        XCTAssertEqual(first.failed, 1)
        XCTAssertEqual(Set(counter.ids).count, 25)
        XCTAssertEqual(counter.ids.count, 25)
        XCTAssertEqual(first.records.best(.minimize)?.coordinates, [0.25, 0.75])
        let again = try SweepRunner(manifest: m, evaluator: bowl(counter), store: RecordStore(path: path, manifest: m),
                                    options: SweepRunOptions(jobs: 2)).run()
        XCTAssertEqual(again.evaluated, 0)
        XCTAssertEqual(again.skipped, 25)
        XCTAssertEqual(counter.ids.count, 25)
        // --retry-failed re-evaluates only the failure.
        let retry = try SweepRunner(manifest: m, evaluator: bowl(counter), store: RecordStore(path: path, manifest: m),
                                    options: SweepRunOptions(retryFailed: true)).run()
        XCTAssertEqual(retry.evaluated, 1)
        XCTAssertEqual(try RecordStore.load(path: path).records.count, 26)
    }

    func testCoarseToFineConvergesAndReusesKnownPoints() throws {
        let path = TestPaths.scratchDirectory("runner").appendingPathComponent("records.jsonl").path
        let m = try manifest(refine: 3)
        let counter = CallCounter()
        let out = try SweepRunner(manifest: m, evaluator: bowl(counter), store: RecordStore(path: path, manifest: m),
                                  options: SweepRunOptions()).run()
        let best = try XCTUnwrap(out.records.best(.minimize))
        XCTAssertEqual(best.coordinates[0], 0.3, accuracy: 0.02)
        XCTAssertEqual(best.coordinates[1], 0.7, accuracy: 0.02)
        XCTAssertGreaterThan(best.round, 0)
        XCTAssertEqual(Set(counter.ids).count, counter.ids.count, "a point was evaluated twice")
        XCTAssertTrue(SweepPlan.missing(manifest: m, records: out.records).points.isEmpty)
    }

    func testShardsTogetherCoverTheSweepAndCollectFindsNothingMissing() throws {
        let dir = TestPaths.scratchDirectory("runner")
        let m = try manifest()
        var all = RecordSet()
        for i in 0..<3 {
            let path = dir.appendingPathComponent("records-\(i).jsonl").path
            let out = try SweepRunner(manifest: m, evaluator: bowl(CallCounter()), store: RecordStore(path: path, manifest: m),
                                      options: SweepRunOptions(shard: try ShardSpec(index: i, count: 3))).run()
            XCTAssertEqual(out.evaluated, [9, 8, 8][i])
            for r in out.records.records { all.add(r) }
            if i == 0 { XCTAssertEqual(SweepPlan.missing(manifest: m, records: all).points.count, 16) }
        }
        XCTAssertTrue(SweepPlan.missing(manifest: m, records: all).points.isEmpty)
        XCTAssertThrowsError(try SweepRunner(manifest: try manifest(refine: 1), evaluator: bowl(CallCounter()),
                                             store: RecordStore(path: dir.appendingPathComponent("r.jsonl").path, manifest: try manifest(refine: 1)),
                                             options: SweepRunOptions(shard: try ShardSpec(index: 0, count: 2))))
    }
}

final class SweepRunnerFatalErrorTests: XCTestCase {
    struct DiskFull: Error {}

    func testErrorsOtherThanEvaluationFailuresStopTheRunWithoutRecording() throws {
        let path = TestPaths.scratchDirectory("runner").appendingPathComponent("records.jsonl").path
        let m = SweepManifest(kind: "search", axisNames: ["w1"], grid: try GridSpec.parse(["0:1:5"], dimensions: 1),
                              inputs: [], evaluator: "disk")
        let e = ClosureEvaluator(summary: "disk") { p in
            if p.index == 2 { throw DiskFull() }
            return p.coordinates[0]
        }
        XCTAssertThrowsError(try SweepRunner(manifest: m, evaluator: e, store: RecordStore(path: path, manifest: m),
                                             options: SweepRunOptions()).run()) { XCTAssertTrue($0 is DiskFull) }
        XCTAssertEqual(try RecordStore.load(path: path).records.map(\.index), [0, 1])
    }
}

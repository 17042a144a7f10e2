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
        SweepManifest(kind: "search", axisNames: ["w1", "w2"], grid: try GridSpec.parse(["0:1:5"], dimensions: 2),
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
    }

    /// Two shards of a sequential strategy (coordinate descent + refinement) run at once, each
    /// waiting for the other's points of every round: together they evaluate exactly the points
    /// of the unsharded run, each once.
    func testShardsOfASequentialSearchWaitForEachOtherAndMatchTheUnshardedRun() throws {
        var coord = try manifest(refine: 2)
        coord.strategy = .coord
        let m = coord
        let evaluator = bowl(CallCounter())
        let whole = TestPaths.scratchDirectory("runner-coord-whole")
        let reference = try SweepRunner(manifest: m, evaluator: evaluator,
                                        store: RecordStore(path: whole.appendingPathComponent("records.jsonl").path, manifest: m),
                                        options: SweepRunOptions()).run()
        let dir = TestPaths.scratchDirectory("runner-coord-shards")
        let counter = CallCounter()
        let counted = bowl(counter)
        let results = ResultBox()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            do {
                let shard = try ShardSpec(index: i, count: 2)
                let store = try RecordStore(path: SweepSession.recordsPath(directory: dir.path, shard: shard), manifest: m)
                let out = try SweepRunner(manifest: m, evaluator: counted, store: store,
                                          options: SweepRunOptions(shard: shard, shardPoll: 0.02)).run()
                results.add(out.used.records.map(\.id))
            } catch { results.fail(error) }
        }
        XCTAssertNil(results.error)
        XCTAssertEqual(Set(counter.ids).count, counter.ids.count, "a point was evaluated twice")
        XCTAssertEqual(Set(counter.ids), Set(reference.used.records.map(\.id)))
        XCTAssertEqual(results.ids.count, 2)
        // Each shard saw every round but the last whole (the last needs no waiting).
        XCTAssertEqual(Set(results.ids.joined()), Set(reference.used.records.map(\.id)))
        XCTAssertLessThanOrEqual(reference.used.records.count, try m.search.cost.evaluations)
    }

    /// Records are keyed by point and evaluator: a finer grid in the same folder evaluates only the
    /// new points; another evaluator is refused, naming it.
    func testAFinerGridReusesFinishedPointsAndOtherSettingsAreRefused() throws {
        let dir = TestPaths.scratchDirectory("runner-reuse")
        let path = dir.appendingPathComponent("records.jsonl").path
        var coarse = try manifest()
        coarse.grid = try GridSpec.parse(["0:1:3"], dimensions: 2)
        let counter = CallCounter()
        _ = try SweepRunner(manifest: coarse, evaluator: bowl(counter), store: RecordStore(path: path, manifest: coarse), options: SweepRunOptions()).run()
        XCTAssertEqual(counter.ids.count, 9)
        let fine = try manifest()  // 0:1:5 holds all of 0:1:3's points
        let out = try SweepRunner(manifest: fine, evaluator: bowl(counter), store: RecordStore(path: path, manifest: fine), options: SweepRunOptions()).run()
        XCTAssertEqual(counter.ids.count, 25)
        XCTAssertEqual(out.skipped, 9)
        XCTAssertEqual(out.used.records.count, 25)
        XCTAssertEqual(try RecordStore.load(path: path).manifest?.grid, fine.grid, "the folder's latest search is the finer grid")
        var other = fine
        other.evaluator = "another score"
        XCTAssertThrowsError(try RecordStore(path: path, manifest: other)) { e in
            XCTAssertEqual(e as? RecordError, .differentSettings(path, "evaluator is 'bowl' in the records but 'another score' in this run"))
        }
    }

    /// Fail fast: the first failure is reported at once, and the run stops after --max-failures.
    func testRunStopsAfterMaxFailuresAndReportsTheFirstAtOnce() throws {
        let path = TestPaths.scratchDirectory("runner-fail").appendingPathComponent("records.jsonl").path
        let m = try manifest()
        let counter = CallCounter()
        let reported = CallCounter()
        let failing = ClosureEvaluator(summary: "bowl") { p in
            counter.add(p.id)
            throw EvaluationFailure(message: "no GPU", stderrTail: "CUDA error: out of memory")
        }
        let options = SweepRunOptions(maxFailures: 3, firstFailure: { reported.add($0) })
        XCTAssertThrowsError(try SweepRunner(manifest: m, evaluator: failing, store: RecordStore(path: path, manifest: m), options: options).run()) { e in
            XCTAssertEqual(e as? SearchError, .tooManyFailures(3, "point 0,0: failed: no GPU"))
        }
        XCTAssertEqual(counter.ids.count, 3)
        XCTAssertEqual(reported.ids.count, 1)
        XCTAssertTrue(reported.ids[0].contains("CUDA error: out of memory"))
        XCTAssertEqual(try RecordStore.load(path: path).records.count, 3, "the failures stay recorded")
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var ids: [[String]] = []
    private(set) var error: (any Error)?
    func add(_ x: [String]) { lock.lock(); ids.append(x); lock.unlock() }
    func fail(_ e: any Error) { lock.lock(); error = e; lock.unlock() }
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

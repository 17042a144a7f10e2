import Foundation
import TVStorage

/// How a run proceeds.
public struct SweepRunOptions: Sendable {
    /// Points evaluated at once (threads; each external command is its own process).
    public var jobs: Int
    public var shard: ShardSpec
    /// Re-evaluate points whose record is a failure or timeout (default: keep them as done).
    public var retryFailed: Bool
    /// Called with one line per finished point (nil: silent).
    public var log: (@Sendable (String) -> Void)?
    /// Draw a progress line on stderr when it is a terminal and there is no `log`.
    public var progress: Bool
    /// Stop the run after this many failed evaluations (0: never).
    public var maxFailures: Int
    /// Called once, at the run's first failed evaluation, with its error and stderr tail.
    public var firstFailure: (@Sendable (String) -> Void)?
    /// Sharded sequential searches: how long to wait for the other shards' share of a round
    /// before giving up (the shard can be rerun), and how often to re-read their records.
    public var shardWait: Double
    public var shardPoll: Double

    public init(jobs: Int = 1, shard: ShardSpec = .whole, retryFailed: Bool = false,
                log: (@Sendable (String) -> Void)? = nil, progress: Bool = false, maxFailures: Int = 3,
                firstFailure: (@Sendable (String) -> Void)? = nil, shardWait: Double = 86_400, shardPoll: Double = 10) {
        self.jobs = max(1, jobs)
        self.shard = shard
        self.retryFailed = retryFailed
        self.log = log
        self.progress = progress
        self.maxFailures = max(0, maxFailures)
        self.firstFailure = firstFailure
        self.shardWait = shardWait
        self.shardPoll = max(0.01, shardPoll)
    }
}

/// What a run did.
public struct SweepOutcome: Sendable {
    /// Every record known (this folder's files, earlier runs included).
    public var records: RecordSet
    /// The records of the points this search used (its trajectory): results and best come from here.
    public var used = RecordSet()
    public var evaluated = 0
    public var failed = 0
    /// Of `failed`: points whose score was NaN or infinite (left out of the best; they do not
    /// count toward --max-failures: a diverging candidate is a result, not a broken evaluator).
    public var nonFinite = 0
    public var skipped = 0
}

/// Runs a sweep's search: asks the strategy for each round's points, evaluates those without a
/// record (this shard's share, `jobs` at a time) appending each result the moment it is known, and
/// tells the strategy the round's values. A sharded run of a multi-round strategy waits for the
/// other shards' records of a round (files in the same folder) before proposing the next.
public final class SweepRunner: Sendable {
    public let manifest: SweepManifest
    public let evaluator: any PointEvaluator
    public let store: RecordStore
    public let options: SweepRunOptions
    private let failures = FailureCount()

    public init(manifest: SweepManifest, evaluator: any PointEvaluator, store: RecordStore, options: SweepRunOptions) throws {
        _ = try manifest.search  // validates the strategy's settings before anything runs
        self.manifest = manifest
        self.evaluator = evaluator
        self.store = store
        self.options = options
    }

    /// Runs the search; returns all records (earlier runs' included).
    public func run() throws -> SweepOutcome {
        var outcome = SweepOutcome(records: RecordSet(store.existing))
        for r in otherShardRecords() where outcome.records.byID[r.id] == nil { outcome.records.add(r) }
        let trajectory = SearchTrajectory(spec: try manifest.search, goal: manifest.goal)
        var used: [PointRecord] = []
        while let batch = trajectory.nextBatch() {
            let round = batch.first?.round ?? 0
            let mine = options.shard.select(batch)
            var seen = Set<String>()
            let todo = mine.filter { !outcome.records.isDone($0.id, retryFailed: options.retryFailed) && seen.insert($0.id).inserted }
            outcome.skipped += mine.count - todo.count
            if let log = options.log {
                let share = options.shard.isWhole ? "" : ", \(mine.count) in shard \(options.shard)"
                log("\(manifest.kind) \(manifest.strategy.rawValue) round \(round): \(batch.count) points\(share), \(mine.count - todo.count) already recorded")
            }
            let fresh = try evaluate(todo, round: round)
            for r in fresh {
                outcome.records.add(r)
                outcome.evaluated += 1
                if r.status != .ok { outcome.failed += 1 }
                if r.isNonFiniteScore { outcome.nonFinite += 1 }
            }
            if batch.contains(where: { outcome.records.byID[$0.id] == nil }) {
                // Only other shards' points can be missing here.
                guard trajectory.mayContinue else {
                    used += batch.compactMap { outcome.records.byID[$0.id] }
                    break
                }
                try waitForOtherShards(batch, round: round, records: &outcome.records)
            }
            used += batch.compactMap { outcome.records.byID[$0.id] }
            trajectory.tell(SweepPlan.values(of: batch, in: outcome.records))
        }
        outcome.used = RecordSet(used)
        return outcome
    }

    /// Records of the other shard files in this folder that hold the same values.
    private func otherShardRecords() -> [PointRecord] {
        guard !options.shard.isWhole else { return [] }
        let dir = URL(fileURLWithPath: store.path).deletingLastPathComponent()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        var out: [PointRecord] = []
        for name in names.sorted() where name.hasPrefix("records") && name.hasSuffix(".jsonl") {
            let path = dir.appendingPathComponent(name).path
            guard path != store.path, let loaded = try? RecordStore.load(path: path),
                  let m = loaded.manifest, manifest.difference(from: m) == nil else { continue }
            out += loaded.records
        }
        return out
    }

    private func waitForOtherShards(_ batch: [SweepPoint], round: Int, records: inout RecordSet) throws {
        let start = Date()
        var logged = false
        while true {
            for r in otherShardRecords() where records.byID[r.id] == nil || records.byID[r.id]!.status != .ok { records.add(r) }
            let missing = batch.filter { records.byID[$0.id] == nil }.count
            if missing == 0 { return }
            if Date().timeIntervalSince(start) >= options.shardWait {
                throw SearchError.waitingForShards(round: round, missing: missing, seconds: options.shardWait)
            }
            if !logged, let log = options.log { log("round \(round): waiting for \(missing) point(s) of other shards"); logged = true }
            Thread.sleep(forTimeInterval: options.shardPoll)
            if TerminationSignals.isTerminating { TerminationSignals.parkIfTerminating() }
        }
    }

    private func evaluate(_ points: [SweepPoint], round: Int) throws -> [PointRecord] {
        guard !points.isEmpty else { return [] }
        let state = RunState(points: points)
        let progress = ProgressReporter(label: round == 0 ? manifest.kind : "\(manifest.kind) round \(round)",
                                        totalUnits: points.count, unitName: "points", enabled: options.progress && options.log == nil)
        DispatchQueue.concurrentPerform(iterations: min(options.jobs, points.count)) { _ in
            while let (n, point) = state.next() {
                let record: PointRecord
                do {
                    record = try evaluateOne(point)
                } catch {
                    state.stop(error)
                    return
                }
                // A point cut short by tvtool's own shutdown is not a result.
                if TerminationSignals.isTerminating { return }
                do {
                    try store.append(record)
                } catch {
                    state.stop(error)
                    return
                }
                state.finish(record)
                if record.status != .ok { noteFailure(record, state: state) }
                progress.advance(status: record.value.map { "last \(Self.short($0))" } ?? record.status.rawValue)
                if let log = options.log {
                    let coords = zip(manifest.axisNames, point.coordinates).map { "\($0)=\(GridNumber.format($1))" }.joined(separator: " ")
                    let result = record.status == .ok ? Self.short(record.value!) : "\(record.status.rawValue): \(record.error ?? "")"
                    log(String(format: "[%d/%d] %@ -> %@ (%.1f s)", n + 1, points.count, coords, result, record.seconds))
                }
            }
        }
        progress.finish()
        TerminationSignals.parkIfTerminating()
        if let error = state.error { throw error }
        return state.done
    }

    /// Evaluates one point. `EvaluationFailure` (and a non-finite score) becomes a failure record;
    /// any other error is about the run, not the point (a candidate that cannot be written, a
    /// shell that cannot start) and stops the run without recording the point.
    private func evaluateOne(_ point: SweepPoint) throws -> PointRecord {
        let start = Date()
        do {
            let (v, se) = try evaluator.evaluateWithError(point)
            guard v.isFinite else {
                return PointRecord(point: point, status: .failed, value: nil, error: PointRecord.nonFiniteScore + " (\(v))",
                                   seconds: Date().timeIntervalSince(start), shard: options.shard)
            }
            var r = PointRecord(point: point, status: .ok, value: v, seconds: Date().timeIntervalSince(start), shard: options.shard)
            r.standardError = se.flatMap { $0.isFinite ? $0 : nil }
            return r
        } catch let f as EvaluationFailure {
            return PointRecord(point: point, status: f.status, value: nil, error: f.message, stderrTail: f.stderrTail,
                               seconds: Date().timeIntervalSince(start), shard: options.shard)
        }
    }

    static func short(_ v: Double) -> String { String(format: "%.6g", v) }

    /// Fail fast: the first failure is shown at once (error and stderr tail); after
    /// `maxFailures` failures the run stops (the finished points stay recorded).
    private func noteFailure(_ r: PointRecord, state: RunState) {
        // A NaN/inf score says the candidate diverged (extrapolated weights often do): recorded
        // as failed and drawn as such, but not a sign of a broken evaluator, so the run goes on.
        if r.isNonFiniteScore { return }
        let (count, isFirst) = failures.add()
        let message = "point \(r.id): \(r.status.rawValue): \(r.error ?? "")"
        if isFirst {
            failures.first = message
            options.firstFailure?("first failed evaluation: " + message + (r.stderrTail.map { "\n--- stderr (last lines) ---\n" + $0 } ?? ""))
        }
        if options.maxFailures > 0 && count >= options.maxFailures {
            state.stop(SearchError.tooManyFailures(options.maxFailures, failures.first ?? message))
        }
    }
}

/// Failures counted over a whole run (all rounds).
private final class FailureCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var _first: String?
    var first: String? {
        get { lock.lock(); defer { lock.unlock() }; return _first }
        set { lock.lock(); if _first == nil { _first = newValue }; lock.unlock() }
    }
    func add() -> (Int, Bool) { lock.lock(); defer { lock.unlock() }; count += 1; return (count, count == 1) }
}

/// The work queue shared by the evaluation threads.
private final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private let points: [SweepPoint]
    private var nextIndex = 0
    private(set) var done: [PointRecord] = []
    private(set) var error: (any Error)?

    init(points: [SweepPoint]) { self.points = points }

    func next() -> (Int, SweepPoint)? {
        lock.lock(); defer { lock.unlock() }
        guard error == nil, nextIndex < points.count else { return nil }
        defer { nextIndex += 1 }
        return (nextIndex, points[nextIndex])
    }

    func finish(_ r: PointRecord) { lock.lock(); done.append(r); lock.unlock() }
    func stop(_ e: any Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
}

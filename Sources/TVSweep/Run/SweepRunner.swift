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

    public init(jobs: Int = 1, shard: ShardSpec = .whole, retryFailed: Bool = false,
                log: (@Sendable (String) -> Void)? = nil, progress: Bool = false) {
        self.jobs = max(1, jobs)
        self.shard = shard
        self.retryFailed = retryFailed
        self.log = log
        self.progress = progress
    }
}

/// What a run did.
public struct SweepOutcome: Sendable {
    public var records: RecordSet
    public var evaluated = 0
    public var failed = 0
    public var skipped = 0
}

/// Evaluates the points of a sweep that have no record yet (this shard's share of them), in
/// parallel, appending each result to the records file the moment it is known.
public final class SweepRunner: Sendable {
    public let manifest: SweepManifest
    public let evaluator: any PointEvaluator
    public let store: RecordStore
    public let options: SweepRunOptions

    public init(manifest: SweepManifest, evaluator: any PointEvaluator, store: RecordStore, options: SweepRunOptions) throws(GridError) {
        if !options.shard.isWhole, (manifest.refinement?.rounds ?? 0) > 0 {
            throw .invalidShard(options.shard.description, "coarse-to-fine refinement needs every point of a round before the next; run the rounds unsharded, or shard a plain grid and refine around the collected best")
        }
        self.manifest = manifest
        self.evaluator = evaluator
        self.store = store
        self.options = options
    }

    /// Runs every round; returns all records (earlier runs' included).
    public func run() throws -> SweepOutcome {
        var outcome = SweepOutcome(records: RecordSet(store.existing))
        for round in 0..<SweepPlan.roundCount(manifest) {
            guard let pts = SweepPlan.points(round: round, manifest: manifest, records: outcome.records) else { break }
            let mine = options.shard.select(pts)
            var seen = Set<String>()
            let todo = mine.filter { !outcome.records.isDone($0.id, retryFailed: options.retryFailed) && seen.insert($0.id).inserted }
            outcome.skipped += mine.count - todo.count
            if let log = options.log {
                let share = options.shard.isWhole ? "" : ", \(mine.count) in shard \(options.shard)"
                log("\(manifest.kind) round \(round): \(pts.count) points\(share), \(mine.count - todo.count) already recorded")
            }
            let fresh = try evaluate(todo, round: round)
            for r in fresh {
                outcome.records.add(r)
                outcome.evaluated += 1
                if r.status != .ok { outcome.failed += 1 }
            }
        }
        return outcome
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
                if ChildProcessGroups.isTerminating { return }
                do {
                    try store.append(record)
                } catch {
                    state.stop(error)
                    return
                }
                state.finish(record)
                progress.advance(status: record.value.map { "last \(Self.short($0))" } ?? record.status.rawValue)
                if let log = options.log {
                    let coords = zip(manifest.axisNames, point.coordinates).map { "\($0)=\(GridNumber.format($1))" }.joined(separator: " ")
                    let result = record.status == .ok ? Self.short(record.value!) : "\(record.status.rawValue): \(record.error ?? "")"
                    log(String(format: "[%d/%d] %@ -> %@ (%.1f s)", n + 1, points.count, coords, result, record.seconds))
                }
            }
        }
        progress.finish()
        ChildProcessGroups.parkIfTerminating()
        if let error = state.error { throw error }
        return state.done
    }

    /// Evaluates one point. `EvaluationFailure` (and a non-finite score) becomes a failure record;
    /// any other error is about the run, not the point (a candidate that cannot be written, a
    /// shell that cannot start) and stops the run without recording the point.
    private func evaluateOne(_ point: SweepPoint) throws -> PointRecord {
        let start = Date()
        do {
            let v = try evaluator.evaluate(point)
            guard v.isFinite else {
                return PointRecord(point: point, status: .failed, value: nil, error: "the score is not finite (\(v))",
                                   seconds: Date().timeIntervalSince(start), shard: options.shard)
            }
            return PointRecord(point: point, status: .ok, value: v, seconds: Date().timeIntervalSince(start), shard: options.shard)
        } catch let f as EvaluationFailure {
            return PointRecord(point: point, status: f.status, value: nil, error: f.message, stderrTail: f.stderrTail,
                               seconds: Date().timeIntervalSince(start), shard: options.shard)
        }
    }

    static func short(_ v: Double) -> String { String(format: "%.6g", v) }
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

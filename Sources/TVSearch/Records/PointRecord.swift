import Foundation

/// Outcome of evaluating one point.
public enum PointStatus: String, Sendable, Codable {
    case ok, failed, timeout
}

/// One evaluated point as stored in the records file (one JSON line).
public struct PointRecord: Sendable, Codable, Equatable {
    public var id: String
    public var coordinates: [Double]
    public var index: Int
    public var round: Int
    public var status: PointStatus
    /// The score; present exactly when status is ok (always finite).
    public var value: Double?
    /// The value's standard error, when the evaluator reports one (the built-in eps-MSE does).
    public var standardError: Double?
    public var error: String?
    /// Last lines of an external command's stderr (failures and timeouts).
    public var stderrTail: String?
    public var seconds: Double
    /// The shard ("i/n") that evaluated it, when sharded.
    public var shard: String?
    public var finishedAt: String

    enum CodingKeys: String, CodingKey {
        case id, coordinates, index, round, status, value, error, seconds, shard
        case stderrTail = "stderr_tail", finishedAt = "finished_at", standardError = "standard_error"
    }

    public init(point: SweepPoint, status: PointStatus, value: Double?, error: String? = nil,
                stderrTail: String? = nil, seconds: Double, shard: ShardSpec? = nil, finishedAt: Date = Date()) {
        self.id = point.id
        self.coordinates = point.coordinates
        self.index = point.index
        self.round = point.round
        self.status = status
        self.value = value
        self.error = error
        self.stderrTail = stderrTail
        self.seconds = seconds
        self.shard = (shard?.isWhole ?? true) ? nil : shard?.description
        self.finishedAt = ISO8601DateFormatter().string(from: finishedAt)
    }

    public var point: SweepPoint { SweepPoint(coordinates: coordinates, index: index, round: round) }

    /// How every evaluator's error for a NaN/inf score begins (the runner's, and the
    /// `--eval-cmd` score parser's), so such failures are told apart in any records file.
    public static let nonFiniteScore = "the score is not finite"

    /// A failed point whose evaluator returned (or printed) NaN or infinity.
    public var isNonFiniteScore: Bool { status == .failed && error?.hasPrefix(Self.nonFiniteScore) == true }
}

/// The records of a sweep after merging: the winning record per point id (the first ok record,
/// else the latest failure), plus counts of what was superseded.
public struct RecordSet: Sendable {
    public private(set) var byID: [String: PointRecord] = [:]
    public private(set) var duplicates = 0

    public init(_ records: [PointRecord] = []) {
        for r in records { add(r) }
    }

    public mutating func add(_ r: PointRecord) {
        if let old = byID[r.id] {
            duplicates += 1
            if old.status == .ok { return }
        }
        byID[r.id] = r
    }

    public var records: [PointRecord] {
        byID.values.sorted { ($0.round, $0.index, $0.id) < ($1.round, $1.index, $1.id) }
    }

    public var okRecords: [PointRecord] { records.filter { $0.status == .ok } }

    /// The best ok record for `goal` (ties: earliest round, then index).
    public func best(_ goal: SweepGoal) -> PointRecord? {
        let sign = goal == .minimize ? 1.0 : -1.0
        return okRecords.min { (sign * $0.value!, $0.round, $0.index) < (sign * $1.value!, $1.round, $1.index) }
    }

    public func isDone(_ id: String, retryFailed: Bool) -> Bool {
        guard let r = byID[id] else { return false }
        return r.status == .ok || !retryFailed
    }
}

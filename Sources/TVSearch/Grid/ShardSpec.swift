/// A deterministic share of a sweep's points: `--shard i/n` with 0 <= i < n (Slurm:
/// `--array=0-(n-1)` and `--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`).
///
/// Strided, not contiguous: shard i takes the points whose enumeration index k has k % n == i.
/// Neighbouring points often cost about the same (a region of the plane where the evaluator
/// fails fast, say), so striding spreads cost evenly over the shards.
public struct ShardSpec: Sendable, Hashable, Codable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public static let whole = ShardSpec(uncheckedIndex: 0, count: 1)

    private init(uncheckedIndex: Int, count: Int) {
        self.index = uncheckedIndex
        self.count = count
    }

    public init(index: Int, count: Int) throws(GridError) {
        guard count >= 1 else { throw .invalidShard("\(index)/\(count)", "the shard count must be at least 1") }
        guard index >= 0 && index < count else {
            throw .invalidShard("\(index)/\(count)", "the index must be in 0..<\(count) (shards are numbered from 0, like --array=0-\(count - 1))")
        }
        self.init(uncheckedIndex: index, count: count)
    }

    public static func parse(_ text: String) throws(GridError) -> ShardSpec {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw .invalidShard(text, "expected i/n, e.g. 0/4")
        }
        return try ShardSpec(index: i, count: n)
    }

    public var isWhole: Bool { count == 1 }
    public var description: String { "\(index)/\(count)" }

    public func contains(_ point: SweepPoint) -> Bool { point.index % count == index }

    public func select(_ points: [SweepPoint]) -> [SweepPoint] { points.filter(contains) }
}

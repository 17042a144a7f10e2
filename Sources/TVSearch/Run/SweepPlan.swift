/// Which points a sweep consists of, derived by replaying its search against the records: pure
/// functions of the manifest and the records, shared by runs, resumes, `--dry-run` and
/// `sweep collect`.
public enum SweepPlan {
    public struct Replay: Sendable {
        /// Every point the search has used whose record exists, in order.
        public var recorded: [SweepPoint] = []
        /// The points of the first round that are not all recorded (empty when the search is done).
        public var missing: [SweepPoint] = []
        /// True when rounds after the missing points may follow (their points are unknown yet).
        public var undetermined = false
    }

    /// Replays the search of `manifest` with `records` until a round has unrecorded points.
    public static func replay(manifest: SweepManifest, records: RecordSet) throws -> Replay {
        let t = SearchTrajectory(spec: try manifest.search, goal: manifest.goal)
        var out = Replay()
        while let batch = t.nextBatch() {
            let missing = batch.filter { records.byID[$0.id] == nil }
            out.recorded += batch.filter { records.byID[$0.id] != nil }
            if !missing.isEmpty {
                out.missing = missing
                out.undetermined = t.mayContinue
                return out
            }
            t.tell(values(of: batch, in: records))
        }
        return out
    }

    /// Values by id for `tell` (failed records give nil).
    static func values(of batch: [SweepPoint], in records: RecordSet) -> [String: Double?] {
        var v: [String: Double?] = [:]
        for p in batch { v[p.id] = records.byID[p.id]?.value }
        return v
    }

    /// Every point the complete sweep needs that has no record yet (the next round's), plus
    /// whether later rounds could not be derived because those points are missing.
    public static func missing(manifest: SweepManifest, records: RecordSet) -> (points: [SweepPoint], undeterminedRounds: Int) {
        guard let r = try? replay(manifest: manifest, records: records) else { return ([], 0) }
        return (r.missing, r.undetermined ? 1 : 0)
    }

    /// The records the search used (its trajectory), for results tables and the best point.
    public static func used(manifest: SweepManifest, records: RecordSet) -> RecordSet {
        guard let r = try? replay(manifest: manifest, records: records) else { return records }
        return RecordSet(r.recorded.compactMap { records.byID[$0.id] })
    }
}

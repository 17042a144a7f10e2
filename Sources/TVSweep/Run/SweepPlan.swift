/// Which points a sweep consists of: the initial grid (round 0) and, with refinement, the
/// rounds derived from the best point recorded so far. Pure functions of the manifest and the
/// records, shared by runs, resumes and `sweep collect`.
public enum SweepPlan {
    /// The points of `round`, or nil when the round cannot be derived yet (no ok point before it).
    public static func points(round: Int, manifest: SweepManifest, records: RecordSet) -> [SweepPoint]? {
        if round == 0 { return manifest.grid.points(round: 0) }
        guard let refinement = manifest.refinement, round <= refinement.rounds else { return [] }
        let earlier = RecordSet(records.records.filter { $0.round < round })
        guard let best = earlier.best(manifest.goal) else { return nil }
        return refinement.grid(round: round, initial: manifest.grid, best: best.coordinates).points(round: round)
    }

    public static func roundCount(_ manifest: SweepManifest) -> Int { 1 + (manifest.refinement?.rounds ?? 0) }

    /// Every point the complete sweep needs that has no record yet, in order, plus whether later
    /// rounds could not be derived because earlier points are missing.
    public static func missing(manifest: SweepManifest, records: RecordSet) -> (points: [SweepPoint], undeterminedRounds: Int) {
        var missing: [SweepPoint] = []
        var seen = Set<String>()
        for round in 0..<roundCount(manifest) {
            if !missing.isEmpty { return (missing, roundCount(manifest) - round) }
            guard let pts = points(round: round, manifest: manifest, records: records) else {
                return (missing, roundCount(manifest) - round)
            }
            for p in pts where records.byID[p.id] == nil && seen.insert(p.id).inserted { missing.append(p) }
        }
        return (missing, 0)
    }
}

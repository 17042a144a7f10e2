import Foundation
import TVEngine
import TVSearch
import TVTrainer

/// The merges finer than one weight per range model (`DeMeOptions.MergeGranularity` block and
/// routed), both started from the per-model search's result and searched on the search set by
/// `DeMeWeightSearch` (TVSearch); candidates are merged in memory by `MergedModels` (TVEngine's
/// `LinearCombination`). The result's weights are per-block coordinates (model-major, `groups`).
struct GranularMerge {
    let options: DeMeOptions
    /// The search objective's description (records identity), as the per-model search's.
    let evaluator: String
    let searchSet: EvaluationSet
    let ranges: [TimestepRange]
    let schedule: NoiseSchedule

    struct Result {
        var groups: BlockGroups
        var weights: [Double]
        var searchValue: Double
        var points: Int
        /// Plain statements for the report (the routed shares, the searched scale).
        var notes: [String]
    }

    /// (a) Per-block weights searched with the search strategy, starting at the per-model optimum.
    func block(base: any TrainableDenoiser, members: [any TrainableDenoiser], perModel: [Double], inputs: [String],
               identity: String, stem: URL, score: @escaping @Sendable (any TrainableDenoiser) throws -> Double) throws -> Result {
        let groups = try MergedModels.groups(options.blockGroups, of: base)
        let models = try MergedModels(base: base, finetuned: members, names: ranges.map { "range \($0)" }, groups: groups)
        // Each model's axes: the block grid plus its per-model weight, so coord starts exactly at
        // the per-model optimum, which it evaluates: the result is never worse than it.
        let axes = perModel.flatMap { w -> [AxisSpec] in
            let values = Array(Set(options.blockGrid.values + [w])).sorted()
            return Array(repeating: AxisSpec(values: values), count: groups.count)
        }
        // Refinement rounds are left out: their 3^(models × groups) neighbourhoods are unaffordable.
        let spec = try SearchSpec(strategy: options.strategy, grid: GridSpec(axes: axes), refinement: nil,
                                  maxEvals: options.maxEvals, seed: options.searchSeed, start: groups.expand(perModel: perModel))
        let search = DeMeWeightSearch(spec: spec, jobs: options.workers, evaluator: evaluator)
        let r = try search.run(models, inputs: inputs, identity: identity, stem: stem, score: score)
        return Result(groups: groups, weights: r.best, searchValue: r.bestValue, points: r.points,
                      notes: ["per-block search (\(groups.scheme): \(groups.names.joined(separator: ", "))): \(r.points) points from the per-model optimum"])
    }

    /// (b) The ensemble's routing distilled into per-group weights:
    ///     gain[i][g]  = L_{R_i}(theta) - L_{R_i}(theta + tau_i restricted to group g)   (search set)
    ///     share[i][g] = max(gain[i][g], 0) / sum_j max(gain[j][g], 0)                    (0 if no gain)
    ///     w[i][g]     = lambda · share[i][g], lambda searched on `routedScaleGrid` (+ refinements).
    func routed(base: any TrainableDenoiser, members: [any TrainableDenoiser], inputs: [String], identity: String,
                stem: URL, score: @escaping @Sendable (any TrainableDenoiser) throws -> Double) throws -> Result {
        let groups = try MergedModels.groups(options.blockGroups, of: base)
        let models = try MergedModels(base: base, finetuned: members, names: ranges.map { "range \($0)" }, groups: groups)
        let n = members.count, G = groups.count
        let baseErrors = try HeldOutErrors(base, on: searchSet, ranges: ranges, schedule: schedule).perImagePerRange
        var gain = [[Double]](repeating: [Double](repeating: 0, count: G), count: n)
        for i in 0..<n {
            let own = mean(baseErrors[i])
            for g in 0..<G {
                var point = [Double](repeating: 0, count: n * G)
                point[i * G + g] = 1
                let m = try models.model(weights: point)
                gain[i][g] = own - mean(try HeldOutErrors(m, on: searchSet, ranges: ranges, schedule: schedule).perImagePerRange[i])
            }
        }
        var share = [Double](repeating: 0, count: n * G)
        for g in 0..<G {
            let total = (0..<n).reduce(0) { $0 + max(gain[$1][g], 0) }
            for i in 0..<n where total > 0 { share[i * G + g] = max(gain[i][g], 0) / total }
        }
        let refinement = options.refinements > 0
            ? try Refinement(rounds: options.refinements, pointsPerAxis: options.refinePoints, beyondBounds: options.refineBeyondBounds) : nil
        let spec = try SearchSpec(strategy: .grid, grid: GridSpec(axes: [options.routedScaleGrid]), refinement: refinement)
        let search = DeMeWeightSearch(spec: spec, jobs: options.workers, evaluator: evaluator)
        let shares = share
        let description = "routed shares " + shares.map { String(format: "%.6f", $0) }.joined(separator: ",")
        let r = try search.run(models, inputs: inputs, identity: identity, stem: stem,
                               line: (axis: "lambda", description: description, map: { c in shares.map { c[0] * $0 } }), score: score)
        let lambda = r.best[0]
        let table = groups.names.enumerated().map { g, name in
            "\(name) " + (0..<n).map { String(format: "%.2f", shares[$0 * G + g]) }.joined(separator: "/")
        }
        return Result(groups: groups, weights: shares.map { lambda * $0 }, searchValue: r.bestValue, points: r.points + n * G,
                      notes: ["routed merge: shares per group (models 1…\(n)): \(table.joined(separator: "; ")); common scale lambda = \(lambda) (\(r.points) points)"])
    }

    private func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }
}

import Foundation
import TVSearch
import TVStorage
import TVTrainer

/// The whole Decouple-then-Merge run behind `tvtool deme` (deme.md; issue 5):
/// N range finetunes (reused when unchanged) → task vectors → weight search on the search set →
/// merged model → report on the image-disjoint report set, against the pretrained model, an
/// equal-budget plain finetune (N×K steps on all timesteps), that finetune interpolated toward the
/// pretrained model with the same search, and the N-model ensemble.
public struct DeMePipeline {
    public let pretrained: any TrainableDenoiser
    public let pretrainedPath: String
    public let split: DatasetSplit
    public let output: URL
    public let options: DeMeOptions
    public var log: @Sendable (String) -> Void = { Console.error($0) }

    public init(pretrained: any TrainableDenoiser, pretrainedPath: String, split: DatasetSplit, output: URL, options: DeMeOptions) throws {
        try options.validate()
        guard pretrained.dataDimension == split.train.dimension else {
            throw DeMeError.mismatchedModels(path: split.train.source, reason: "images of \(split.train.dimension) values do not fit \(pretrainedPath) (\(pretrained.dataDimension))")
        }
        guard split.heldOut.count >= 2, split.heldOut.allSatisfy({ $0.count >= 2 }) else {
            throw DeMeError.invalidArgument("the data split needs two held-out sets of at least 2 images (search and report)")
        }
        guard options.ranges * options.evalTimestepsPerRange <= pretrained.config.timesteps, options.ranges <= pretrained.config.timesteps else {
            throw DeMeError.invalidArgument("--ranges × --eval-timesteps (\(options.ranges * options.evalTimestepsPerRange)) exceeds the model's \(pretrained.config.timesteps) timesteps")
        }
        self.pretrained = pretrained
        self.pretrainedPath = pretrainedPath
        self.split = split
        self.output = output
        self.options = options
    }

    /// Runs everything and writes report.md/json, the merged model (merged.safetensors, or the
    /// folder merged/ for a UNet), search logs and sample grids.
    @discardableResult
    public func run() throws -> DeMeReport {
        let t0 = Date()
        var timings: [String: Double] = [:]
        let o = options
        let T = pretrained.config.timesteps
        let ranges = try TimestepRange.equalRanges(count: o.ranges, total: T)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let store = try FinetuneStore(directory: output.appendingPathComponent("finetunes"), pretrained: pretrained, pretrainedPath: pretrainedPath)

        // Two image-disjoint held-out sets: one for the weight search, one for the report.
        let repeats = o.evalTimestepsPerRange * o.ranges
        let searchSet = EvaluationSet(data: split.heldOut[0], timesteps: T, repeats: repeats, seed: o.seed &+ 0x5EA5C4)
        let reportSet = EvaluationSet(data: split.heldOut[1], timesteps: T, repeats: repeats, seed: o.seed &+ 0x2E9027)
        let schedule = pretrained.config.makeSchedule()
        let sampler = SampleMetrics(steps: o.samplingSteps, schedule: schedule)

        // Decouple: N range finetunes with every technique on, and the equal-budget plain finetune.
        var t = Date()
        var reused = 0
        let jobs = FinetuneJobs(store: store, workers: o.workers)
        func rangeJobs(_ tag: String, consistency: Bool, projections: Bool) -> [FinetuneJobs.Job] {
            ranges.enumerated().map { i, r in
                FinetuneJobs.Job(name: "\(tag)_range\(i + 1)_\(r.lower)_\(r.upper)",
                                 options: o.finetune(range: r, index: i, consistency: consistency, projections: projections, sampling: true))
            }
        }
        var plainOptimizer = o.optimizer
        plainOptimizer.learningRate = o.plainLearningRate
        let plainOptions = FinetuneOptions.plain(timesteps: T, steps: o.ranges * o.stepsPerRange, batchSize: o.batchSize,
                                                 optimizer: plainOptimizer, ema: o.ema, seed: o.seed &+ 1000,
                                                 horizontalFlip: o.horizontalFlip)
        // All finetunes of the run in one batch of jobs, so the workers stay busy.
        var all = rangeJobs("deme", consistency: true, projections: o.projections)
        all.append(FinetuneJobs.Job(name: "plain_\(o.ranges * o.stepsPerRange)steps", options: plainOptions))
        if o.ablate {
            all += rangeJobs("abl_sampling", consistency: false, projections: false)
            all += rangeJobs("abl_consistency", consistency: true, projections: false)
        }
        // The longest job (the plain finetune, N×K steps) first, so it overlaps the others.
        let order = all.indices.sorted { all[$0].options.steps > all[$1].options.steps }
        let (trained, reusedCount) = try jobs.run(order.map { all[$0] }, pretrained: pretrained, train: split.train, log: log)
        reused = reusedCount
        var models = [(any TrainableDenoiser)?](repeating: nil, count: all.count)
        for (k, i) in order.enumerated() { models[i] = trained[k] }
        let members = (0..<o.ranges).map { models[$0]! }
        let plain = models[o.ranges]!
        var ablationMembers: [[any TrainableDenoiser]] = []
        if o.ablate {
            let n = o.ranges
            ablationMembers = [(n + 1)..<(2 * n + 1), (2 * n + 1)..<(3 * n + 1)].map { r in r.map { models[$0]! } }
        }
        timings["finetune"] = Date().timeIntervalSince(t)

        // Merge: weight searches on the search set.
        t = Date()
        let score = objective(searchSet: searchSet, ranges: ranges, sampler: sampler)
        let searcher = DeMeWeightSearch(spec: try o.search(weights: o.ranges), jobs: o.workers, evaluator: searchObjective(searchSet))
        let demeBase = o.projections ? pretrained.expandingWithIdentityProjections() : pretrained
        let deme = try MergedModels(base: demeBase, finetuned: members, names: ranges.map { "range \($0)" })
        let demeSearch = try searcher.run(deme, inputs: [pretrainedPath] + all.prefix(o.ranges).map(\.name),
                                          identity: identity(all.prefix(o.ranges), projections: o.projections, store: store),
                                          stem: output.appendingPathComponent("search_deme"), score: score)

        // Finer merges (--merge-granularity block|routed) start from the per-model result.
        var granular: GranularMerge.Result?
        if o.mergeGranularity != .model {
            let g = GranularMerge(options: o, evaluator: searcher.evaluator, searchSet: searchSet, ranges: ranges, schedule: schedule)
            let inputs = [pretrainedPath] + all.prefix(o.ranges).map(\.name)
            let id = identity(all.prefix(o.ranges), projections: o.projections, store: store)
            let stem = output.appendingPathComponent("search_deme_" + o.mergeGranularity.rawValue)
            granular = o.mergeGranularity == .block
                ? try g.block(base: demeBase, members: members, perModel: demeSearch.best, inputs: inputs, identity: id, stem: stem, score: score)
                : try g.routed(base: demeBase, members: members, inputs: inputs, identity: id, stem: stem, score: score)
        }
        let mergedWeights = granular?.weights ?? demeSearch.best

        let plainMerge = try MergedModels(base: pretrained, finetuned: [plain], names: ["plain finetune"])
        let plainSearcher = DeMeWeightSearch(spec: try o.search(weights: 1), jobs: o.workers, evaluator: searcher.evaluator)
        let plainSearch = try plainSearcher.run(plainMerge, inputs: [pretrainedPath, all[o.ranges].name],
                                                identity: identity([all[o.ranges]], projections: false, store: store),
                                                stem: output.appendingPathComponent("search_plain"), score: score)
        let plainInterp = try plainMerge.model(weights: plainSearch.best)
        timings["search"] = Date().timeIntervalSince(t)

        // The merged model is computed once, by the engine from the checkpoint files (base =
        // pretrained with identity projections when they are on); the report evaluates that file.
        t = Date()
        var basePath = pretrainedPath
        if o.projections {
            basePath = store.path("base_identity_projections").path
            try ModelCheckpoint.save(demeBase, to: basePath, metadata: [FinetuneStore.pretrainedKey: store.pretrainedFingerprint])
        }
        let merged = try MergedFileWriter.write(base: basePath, finetuned: all.prefix(o.ranges).map { store.path($0.name).path },
                                   weights: mergedWeights, output: output.appendingPathComponent(Self.mergedName(store)).path,
                                   config: demeBase.config, groups: granular?.groups)
        timings["merged file"] = Date().timeIntervalSince(t)

        // Report: every row on the report set.
        t = Date()
        let ev = RowEvaluator(reportSet: reportSet, searchSet: searchSet, ranges: ranges, reference: split.heldOut[1], options: o, sampler: sampler)
        let k = o.stepsPerRange, n = o.ranges
        let pre = try ev.row("pretrained", "the starting checkpoint", model: pretrained, pretrained: nil)
        let plainRow = try ev.row("plain finetune", "\(n)×\(k) = \(n * k) steps on all timesteps, same optimiser, no consistency/projection", model: plain, pretrained: pre)
        let interpRow = try ev.row("plain finetune, interpolated", "theta + w (theta_plain - theta), w searched like DeMe's", model: plainInterp, weights: plainSearch.best, pretrained: pre)
        let ensemble = try EnsembleDenoiser(members: members, ranges: ranges)
        let ensRow = try ev.row("DeMe ensemble", "\(n) models, model i used for t in R_i (\(n)× storage)", model: ensemble, pretrained: pre)
        let mergedRow = try ev.row("DeMe merged", techniques(o, granular), model: merged, weights: mergedWeights, pretrained: pre)
        var rows = [pre, plainRow, interpRow, ensRow, mergedRow]
        var granularNotes: [String] = []
        var perModelRow: ReportRow?
        if let granular {
            // The per-model merge the finer one started from, as a row and a paired verdict on
            // both sets (the search-set comparison is the one the adoption rule reads).
            let perModel = try deme.model(weights: demeSearch.best)
            let row = try ev.row("DeMe merged, per-model weights", techniques(o), model: perModel, weights: demeSearch.best, pretrained: pre)
            rows.insert(row, at: 4)
            perModelRow = row
            let a = try HeldOutErrors(merged, on: searchSet, ranges: ranges, schedule: sampler.schedule).perImage
            let b = try HeldOutErrors(perModel, on: searchSet, ranges: ranges, schedule: sampler.schedule).perImage
            let d = try PairedComparison(a, b)
            granularNotes = granular.notes + ["search set (held-out 1): DeMe merged (\(o.mergeGranularity.rawValue)) − per-model weights = \(Fmt.sci(d.meanDifference)) ± \(Fmt.se(d.standardError)) SE over \(d.count) images, z = \(Fmt.fixed(d.zScore, 1))"]
        }
        var ablation: [ReportRow] = []
        var searched = demeSearch.points + plainSearch.points
        if o.ablate {
            var a = plainRow
            a.name = "N=1 plain"
            ablation.append(a)
            for (k, (tag, label, cons)) in [("abl_sampling", "+ probabilistic sampling", false), ("abl_consistency", "+ consistency", true)].enumerated() {
                let ms = ablationMembers[k]
                let mm = try MergedModels(base: pretrained, finetuned: ms, names: ranges.map { "range \($0)" })
                let jobsOfTag = all.filter { $0.name.hasPrefix(tag + "_") }
                let res = try searcher.run(mm, inputs: [pretrainedPath] + jobsOfTag.map(\.name), identity: identity(jobsOfTag, projections: false, store: store),
                                           stem: output.appendingPathComponent("search_" + tag), score: score)
                searched += res.points
                ablation.append(try ev.row(label, "N=\(n), p=\(o.globalProbability)" + (cons ? ", consistency \(o.consistencyWeight)" : "") + ", no projection, merged",
                                           model: try mm.model(weights: res.best), weights: res.best, pretrained: pre))
            }
            var full = mergedRow
            full.name = o.projections ? "+ projection" : "+ projection (off in this run)"
            ablation.append(full)
        }
        timings["report evaluation"] = Date().timeIntervalSince(t)

        t = Date()
        try sampler.writeGrid(pretrained, count: o.gridImages, seed: o.frechetSeeds.first ?? 0, shape: split.train, to: output.appendingPathComponent("samples_pretrained.png"))
        try sampler.writeGrid(merged, count: o.gridImages, seed: o.frechetSeeds.first ?? 0, shape: split.train, to: output.appendingPathComponent("samples_merged.png"))
        timings["sample grids"] = Date().timeIntervalSince(t)
        timings["total"] = Date().timeIntervalSince(t0)

        let verdicts = try ([pre, plainRow, interpRow, ensRow] + (perModelRow.map { [$0] } ?? [])).map { try Verdict(model: mergedRow, baseline: $0) }
        let report = DeMeReport(
            configuration: configuration(ranges: ranges, scheme: granular?.groups.scheme),
            ranges: ranges, reportSet: "\(reportSet.imageCount) images × \(repeats) timesteps, held-out set 2", searchSet: "\(searchSet.imageCount) images × \(repeats) timesteps, held-out set 1",
            rows: rows, ablation: ablation, verdicts: verdicts,
            searchObjective: o.objective == .mse ? "held-out eps-MSE averaged uniformly over t (search set)" : "Fréchet distance of \(o.frechetSamples) samples to the search set (seed \(o.frechetSeeds.first ?? 0))",
            searchedPoints: searched, timings: timings,
            files: ["merged model": Self.mergedName(store) + (store.folders ? "/ (a diffusers UNet2DModel folder)" : ""), "finetunes": "finetunes/", "search log": "search_*.csv, search_*.jsonl",
                    "samples": "samples_pretrained.png, samples_merged.png"],
            notes: notes(reused: reused, searches: [("DeMe merged" + (granular == nil ? "" : ", per-model weights"), demeSearch.best), ("plain finetune, interpolated", plainSearch.best)]) + granularNotes)
        try report.write(to: output)
        return report
    }

    /// The merged model in OUT: a diffusers folder `merged` for a UNet, `merged.safetensors` else.
    public static func mergedName(_ store: FinetuneStore) -> String { store.folders ? "merged" : "merged.safetensors" }

    /// What the search objective is, for the records' identity.
    private func searchObjective(_ searchSet: EvaluationSet) -> String {
        let o = options
        let what = o.objective == .mse ? "eps-mse (uniform over t)"
            : "frechet \(o.frechetSamples) samples seed \(o.frechetSeeds.first ?? 0), \(o.samplingSteps) ddim steps"
        return "deme \(what) on the search set (held-out 1 of \(split.train.source), \(searchSet.imageCount) images x \(searchSet.count / max(searchSet.imageCount, 1)) timesteps, seed \(o.seed))"
    }

    /// Names and option hashes of finetunes, so search records of other finetunes are not reused.
    private func identity<C: Collection>(_ jobs: C, projections: Bool, store: FinetuneStore) -> String where C.Element == FinetuneJobs.Job {
        jobs.map { job in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in (job.options.metadataJSON() + store.pretrainedFingerprint).utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            return "\(job.name):\(String(h, radix: 16))"
        }.joined(separator: " ") + (projections ? " (base with identity projections)" : "")
    }

    private func objective(searchSet: EvaluationSet, ranges: [TimestepRange], sampler: SampleMetrics) -> @Sendable (any TrainableDenoiser) throws -> Double {
        // An MLP candidate is scored on a frozen copy: it computes its time conditioning once per
        // timestep (1000 rows) instead of once per evaluated row (2,384 on the default search
        // set, 25,000 per Fréchet seed); same bits.
        let frozen: @Sendable (any TrainableDenoiser) -> any Denoiser = { m in (m as? MLPDenoiser)?.frozenCopy() ?? m }
        switch options.objective {
        case .mse:
            return { m in try HeldOutErrors(frozen(m), on: searchSet, ranges: ranges, schedule: sampler.schedule).mean }
        case .frechet:
            let ref = split.heldOut[0], n = options.frechetSamples, seed = options.frechetSeeds.first ?? 0
            return { m in try sampler.frechet(frozen(m), reference: ref, samples: n, seed: seed) }
        }
    }

    /// Plain statements about the run that a reader should not have to infer from the tables.
    private func notes(reused: Int, searches: [(String, [Double])]) -> [String] {
        var n: [String] = []
        if reused > 0 { n.append("\(reused) finetune(s) reused from an earlier run (same options, same pretrained model).") }
        for (name, w) in searches {
            let edge = w.indices.filter { w[$0] == options.grid(for: $0).upperBound || (w[$0] == options.grid(for: $0).lowerBound && w[$0] != 0) }
            if !edge.isEmpty {
                n.append("\(name): the best weight(s) \(edge.map { "w\($0 + 1) = \(w[$0])" }.joined(separator: ", ")) lie on the grid's bound; a wider --grid might find a better point.")
            }
        }
        return n
    }

    private func techniques(_ o: DeMeOptions, _ granular: GranularMerge.Result? = nil) -> String {
        let how = granular.map { g in
            o.mergeGranularity == .block ? "weights per model and layer group (\(g.groups.names.joined(separator: ", "))) searched"
                : "weights per layer group (\(g.groups.names.joined(separator: ", "))) from the distilled routing, scale searched"
        } ?? "weights searched"
        return "N=\(o.ranges) × \(o.stepsPerRange) steps, p=\(o.globalProbability), consistency \(o.consistencyWeight), projections \(o.projections ? "on" : "off"), \(how)"
    }

    private func configuration(ranges: [TimestepRange], scheme: String? = nil) -> [String: String] {
        let o = options
        var c: [String: String] = ["pretrained": pretrainedPath, "data": split.train.source,
                "train / search / report images": "\(split.train.count) / \(split.heldOut[0].count) / \(split.heldOut[1].count)",
                "ranges": ranges.map(\.description).joined(separator: ", "), "steps per range": String(o.stepsPerRange),
                "p": String(o.globalProbability), "consistency weight": String(o.consistencyWeight), "projections": String(o.projections),
                "batch": String(o.batchSize), "optimizer": "AdamW lr \(o.optimizer.learningRate) (plain baseline \(o.plainLearningRate)), betas (\(o.optimizer.beta1), \(o.optimizer.beta2)), wd \(o.optimizer.weightDecay), clip \(o.optimizer.gradientClip.map { String($0) } ?? "none")",
                "EMA": o.ema.map { "min(\($0.maxDecay), 1 - n^-\($0.power ?? 0))" } ?? "none",
                "grid": (0..<o.ranges).map { o.grid(for: $0).description }.joined(separator: " | "), "refinements": String(o.refinements),
                "search strategy": o.strategy.rawValue + (o.maxEvals.map { ", at most \($0) points" } ?? ""),
                "objective": o.objective.rawValue, "eval timesteps per range": String(o.evalTimestepsPerRange),
                "Fréchet": "\(o.frechetSamples) samples × seeds \(o.frechetSeeds.map(String.init).joined(separator: ",")), DDIM \(o.samplingSteps) steps eta 0",
                "seed": String(o.seed)]
        if o.mergeGranularity != .model {
            let groups = o.blockGroups + (scheme.map { $0 == o.blockGroups ? "" : " = \($0)" } ?? "")
            c["merge granularity"] = "\(o.mergeGranularity.rawValue) (groups \(groups))"
        }
        return c
    }

}

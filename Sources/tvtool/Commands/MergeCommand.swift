import ArgumentParser
import Foundation
import TVEngine
import TVStorage

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge finetuned checkpoints (or task vectors) into one model, streaming tensor by tensor.",
        discussion: """
            Default: task_arithmetic = DeMe's merge, theta + lambda * sum_i w_i tau_i
            with tau_i = theta_i - theta and no normalisation (DeMe's weights
            0.1,0.1,0.2,0.5 sum to 0.9 on purpose).

            Methods (--method) and their parameters, default and valid range
            (`tvtool merge --list-methods` shows each parameter's kind and meaning):
              \(MergeMethods.helpSummary().replacingOccurrences(of: "\n", with: "\n  "))

            Choices and deviations (see docs/engine.md):
              * TIES trims per tensor by default, as mergekit: every layer keeps
                the same fraction, so layers with small updates are not wiped
                out by large ones. --trim global is the paper's whole-model
                top-k, exact, at the cost of two extra passes over the inputs.
                Sign election and disjoint mean are weighted by w_i (mergekit);
                with equal weights this is the paper's rule.
              * DARE rescales kept entries by exactly 1/(1-p) = 1/density (the
                paper; mergekit preserves the L1 norm instead). Masks depend
                only on --seed (default 0), tensor name, model and position.
              * linear averages the models only; the base supplies integer
                tensors, key order and dtypes.
            Arithmetic is f32 (--compute-dtype f64 on request); integer and bool
            tensors are copied from the base. The recipe is recorded in the
            output's __metadata__ under "tvtool.recipe".

            Per-tensor parameters: --rules FILE (JSON or YAML):
              rules:
                - match: "down_blocks.*"     # glob; or regex: / contains:
                  weight: [0.2, 0.2, 0.2, 0.2]
                - regex: '^mid_block\\.'    # single quotes: no YAML escapes
                  weight: 0.3
            For each parameter, the first matching rule that sets it wins.

            --recipe FILE accepts mergekit's common YAML: merge_method,
            base_model, models[].model, models[].parameters (weight, density,
            ...), parameters, dtype/out_dtype; plus rules, seed, keys, mismatch.

            Examples:
              tvtool merge base.safetensors r1.safetensors r2.safetensors \\
                r3.safetensors r4.safetensors --weights 0.1,0.1,0.2,0.5 -o deme.safetensors
              tvtool merge base.safetensors a.safetensors b.safetensors \\
                --method ties --density 0.2 --lambda 1 -o ties.safetensors
              tvtool merge --recipe merge.yml -o merged.safetensors
              tvtool merge base.safetensors a.safetensors b.safetensors \\
                --weights -1,0.5 -o extrapolated.safetensors
              tvtool merge --list-methods
              tvtool merge sd15.safetensors other.safetensors \\
                --block-weights GRAD_V -o mbw.safetensors   # docs/block-weights.md
              tvtool merge base.safetensors a.safetensors b.safetensors \\
                --method ties --rules rules.yml --explain
            """
    )

    @Argument(help: "Base checkpoint, then the finetuned checkpoints (or task vectors with --task-vectors).")
    var inputs: [String] = []

    @Option(name: [.short, .customLong("output")], help: "Output checkpoint (.safetensors); not needed with --explain or --list-methods.")
    var output: String?

    @Option(help: "Merge method: \(MergeMethods.names.joined(separator: ", ")) (see --list-methods).")
    var method: String?

    @Flag(name: .customLong("list-methods"), help: "Print every merge method with its parameters (kind, default, valid range, meaning) and exit.")
    var listMethods = false

    @Flag(help: "Print the parameters each tensor gets (value, and the rule, global option or default it comes from), check them, and exit without writing.")
    var explain = false

    @Option(help: "Comma-separated per-model weights, e.g. 0.1,0.1,0.2,0.5 (one value = all models).")
    var weights: String?

    @Option(help: "Per-model densities (ties, dare_*, breadcrumbs).")
    var density: String?

    @Option(help: "Scale of the merged task vector (task_arithmetic, ties, dare_*, breadcrumbs).")
    var lambda: Double?

    @Option(help: "Interpolation factor (lerp, slerp).")
    var t: Double?

    @Option(help: "Breadcrumbs: fraction of the largest |tau| to drop.")
    var gamma: Double?

    @Option(help: "TIES trim scope: per-tensor (default) or global.")
    var trim: String?

    @Option(help: "DARE seed (default 0).")
    var seed: UInt64?

    @Option(name: .customLong("param"), help: "Any method parameter as key=value or key=v1,v2,… (repeatable).")
    var params: [String] = []

    @Option(help: "Rules file (JSON/YAML) overriding parameters per tensor name.")
    var rules: String?

    @Option(name: .customLong("block-weights"), help: ArgumentHelp(
        "SD 1.x block weights (supermerger's MBW): 25 values IN00..IN11,M00,OUT00..OUT11, or 26 with BASE first, or a preset (GRAD_V, FLAT_25, WRAP08, RING08_5, ...). Once for all models, or once per model in input order. Sets the method's weight (or t) per block; see docs/block-weights.md.",
        valueName: "list|preset"))
    var blockWeights: [String] = []

    @Option(name: .customLong("block-weights-a"), help: .hidden)
    var blockWeightsA: String?

    @Option(name: .customLong("block-weights-b"), help: .hidden)
    var blockWeightsB: String?

    @Option(help: "Recipe file (YAML/JSON, mergekit subset); positional inputs are then not needed.")
    var recipe: String?

    @Flag(name: .customLong("task-vectors"), help: "The models are task-vector files (theta_i - theta), not finetuned checkpoints.")
    var taskVectors = false

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    @Option(help: "Pipeline components to merge, e.g. unet,text_encoder (default: every component whose weights differ between the inputs; the others are copied).")
    var parts: String?

    @OptionGroup var engine: EngineOptions

    func run() throws {
        if listMethods {
            print(json ? try JSONText.encode(MergeMethods.jsonValue()) : MergeMethods.table())
            return
        }
        var blockLists = try blockWeightLists()
        guard output != nil || explain else { throw ValidationError("Missing expected argument '--output <output>'") }
        var options = try engine.mergeOptions()
        var parameters = MergeParameters()
        var methodName = method ?? "task_arithmetic"
        var base: String
        var models: [String]
        var tv = taskVectors
        if let recipe {
            let r = try RecipeFile.load(recipe)
            guard inputs.isEmpty else { throw ValidationError("give the inputs either in the recipe or on the command line") }
            base = r.base; models = r.models; parameters = r.parameters
            methodName = method ?? r.method
            if engine.dtype == nil { options.outDType = r.outDType }
            if let p = r.precision, engine.computeDType == "f32" { options.precision = p }
            if let s = r.seed { options.seed = s }
            if let k = r.keys { options.keys = k }
            if let m = r.mismatch { options.mismatch = m }
            tv = tv || r.taskVectors
            // --block-weights on the command line overrides the recipe's.
            if blockLists == nil { blockLists = r.blockWeights }
        } else {
            guard inputs.count >= 2 else { throw ValidationError("give a base checkpoint and at least one model") }
            base = inputs[0]; models = Array(inputs.dropFirst())
        }
        if let weights { parameters.global["weight"] = try ParameterParsing.values(weights, key: "--weights") }
        if let density { parameters.global["density"] = try ParameterParsing.values(density, key: "--density") }
        if let lambda { parameters.global["lambda"] = .scalar(lambda) }
        if let t { parameters.global["t"] = .scalar(t) }
        if let gamma { parameters.global["gamma"] = .scalar(gamma) }
        if let trim { parameters.options["trim"] = trim }
        if let seed { options.seed = seed }
        for p in params {
            let parts = p.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--param takes key=value, got '\(p)'") }
            // A word for a method's choice parameter (e.g. della rescale_norm=l1) is an option.
            if try MergeMethods.named(methodName).parameters.contains(where: { $0.name == parts[0] && !$0.isNumeric }) {
                parameters.options[parts[0]] = parts[1]
                continue
            }
            parameters.global[parts[0]] = try ParameterParsing.values(parts[1], key: parts[0])
        }
        if let rules { parameters.rules += try RulesFile.load(rules) }
        let m = try MergeMethods.named(methodName)
        let set = try ModelSet.open([base] + models, variant: engine.variant, parts: parts.map(ParameterParsing.list))
        let inputs = MergeInputs(base: set.readers[0], models: Array(set.readers.dropFirst()), modelsAreTaskVectors: tv)
        try Merger.check(method: m, parameters: parameters, modelCount: inputs.models.count)
        let names = ParameterExplanation.computedTensorNames(inputs)
        for i in ParameterExplanation.unmatchedRules(parameters, tensorNames: names) {
            Console.error("warning: \(ParameterExplanation.ruleLabel(i, parameters.rules[i])) matches no floating-point tensor")
        }
        if let lists = blockLists {
            try BlockWeights.apply(lists, to: &parameters, method: m, modelCount: inputs.models.count,
                                   tensorNames: names, path: inputs.base.path)
        }
        if explain {
            try ExplainPrinter.print(ParameterExplanation.explain(method: m, parameters: parameters, tensorNames: names),
                                     method: m.name, json: json)
            return
        }
        guard let output else { return }
        if !set.copiedParts.isEmpty && !engine.quiet {
            Console.error("note: merging \(set.parts.joined(separator: ", ")); copying \(set.copiedParts.joined(separator: ", ")) (the same in every input)")
        }
        let report = try Merger.merge(method: m, inputs: inputs, parameters: parameters, options: options,
                                      writer: { try set.create(output, tensors: $0, metadata: engine.withModelConfig($1, readers: set.readers, tensors: $0)) },
                                      recipeExtra: recipe.map { ["recipe_file": $0] } ?? [:])
        try MergeReportPrinter.print(report, json: json, quiet: engine.quiet)
    }

    /// --block-weights (repeatable), or supermerger's --block-weights-a/-b for models 1 and 2.
    private func blockWeightLists() throws -> [BlockWeightList]? {
        if blockWeightsA != nil || blockWeightsB != nil {
            guard blockWeights.isEmpty else { throw ValidationError("give --block-weights or --block-weights-a/-b, not both") }
            guard let a = blockWeightsA else { throw ValidationError("--block-weights-b needs --block-weights-a (model 1)") }
            return try [BlockWeightList.parse(a, source: "--block-weights-a")]
                + (blockWeightsB.map { [try BlockWeightList.parse($0, source: "--block-weights-b")] } ?? [])
        }
        guard !blockWeights.isEmpty else { return nil }
        return try blockWeights.enumerated().map { i, text in
            try BlockWeightList.parse(text, source: blockWeights.count > 1 ? "--block-weights (model \(i + 1))" : "--block-weights")
        }
    }
}

/// `merge --explain`: one line per tensor (or JSON).
enum ExplainPrinter {
    static func print(_ rows: [ParameterExplanation], method: String, json: Bool) throws {
        if json {
            let tensors = rows.map { row -> [String: Any] in
                ["tensor": row.tensor, "parameters": Dictionary(uniqueKeysWithValues: row.parameters.map {
                    ($0.parameter, ["value": $0.value.jsonValue, "from": $0.source] as [String: Any])
                })]
            }
            Swift.print(try JSONText.encode(["method": method, "tensors": tensors]))
            return
        }
        printLine("method \(method); \(rows.count) floating-point tensor(s)")
        for row in rows {
            let items = row.parameters.map { "\($0.parameter)=\($0.value) (\($0.source))" }
            printLine(row.tensor + (items.isEmpty ? "  (no parameters)" : "  " + items.joined(separator: "  ")))
        }
    }
}

enum ParameterParsing {
    /// "a,b" → ["a", "b"].
    static func list(_ s: String) -> [String] {
        s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// "0.5" → scalar, "0.1,0.2" → per model.
    static func values(_ s: String, key: String) throws -> ParameterValue {
        let parts = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let xs = parts.compactMap(Double.init)
        guard !parts.isEmpty, xs.count == parts.count else { throw ValidationError("\(key): '\(s)' is not a number or comma-separated numbers") }
        return xs.count == 1 ? .scalar(xs[0]) : .perModel(xs)
    }
}

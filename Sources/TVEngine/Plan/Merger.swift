import TVStorage

/// The library entry point for `tvtool merge`: validates the method and parameters against the
/// inputs before reading any tensor data, then streams the merge into `writer`.
public enum Merger {
    public static func merge(method: any MergeMethod, inputs: MergeInputs, parameters: MergeParameters,
                             options: MergeOptions, writer: StreamingMerge.WriterFactory,
                             recipeExtra: [String: Any] = [:]) throws -> MergeReport {
        try check(method: method, parameters: parameters, modelCount: inputs.models.count)
        let run = StreamingMerge(inputs: inputs, parameters: parameters, options: options)
        let recipe = Provenance.recipe(method: method.name, inputs: inputs, parameters: parameters, options: options, extra: recipeExtra)
        return try run.run(recipe: recipe, prepare: { try method.prepare($0) }, planner: { try method.plan($0) }, writer: writer)
    }

    /// Everything checkable before reading tensor data: the model count, rule patterns, and each
    /// parameter against the method's typed definitions (keys, counts, finiteness, ranges).
    public static func check(method: any MergeMethod, parameters: MergeParameters, modelCount: Int) throws {
        try method.validate(modelCount: modelCount)
        for rule in parameters.rules { try rule.pattern.validate(source: "rules") }
        try method.check(parameters, modelCount: modelCount)
        try method.validate(parameters: parameters)
    }

    /// Merges into a file at `output` (atomic; refuses to overwrite an input).
    public static func merge(method: any MergeMethod, inputs: MergeInputs, parameters: MergeParameters,
                             options: MergeOptions, output: String, recipeExtra: [String: Any] = [:]) throws -> MergeReport {
        let run = StreamingMerge(inputs: inputs, parameters: parameters, options: options)
        return try merge(method: method, inputs: inputs, parameters: parameters, options: options,
                         writer: run.fileWriter(output), recipeExtra: recipeExtra)
    }
}

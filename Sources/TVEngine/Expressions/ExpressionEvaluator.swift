import TVStorage

/// Evaluates `TVExpression`s over a list of sources, streaming tensor by tensor like a merge
/// (same key/mismatch policies, output dtype, provenance).
///
/// The first checkpoint source is the anchor theta; other checkpoints enter as theta + tau_k and
/// task-vector sources as themselves, so sums such as theta + Σ w (theta_k - theta) are computed
/// from the small differences. Tensors the anchor has as integers are copied from it.
public struct ExpressionEvaluator {
    public let sources: [any CheckpointReader]
    public let sourceIsTaskVector: [Bool]
    public var options: MergeOptions
    let anchor: Int

    public init(sources: [any CheckpointReader], sourceIsTaskVector: [Bool]? = nil, options: MergeOptions = MergeOptions()) throws {
        guard !sources.isEmpty else { throw EngineError.badParameter(source: "expression", reason: "no sources") }
        self.sources = sources
        self.sourceIsTaskVector = sourceIsTaskVector ?? sources.map { _ in false }
        self.options = options
        self.anchor = self.sourceIsTaskVector.firstIndex(of: false) ?? 0
    }

    var order: [Int] { [anchor] + sources.indices.filter { $0 != anchor } }

    var inputs: MergeInputs {
        let rest = order.dropFirst()
        return MergeInputs(base: sources[anchor], models: rest.map { sources[$0] }, modelIsTaskVector: rest.map { sourceIsTaskVector[$0] })
    }

    /// Each source's coefficients in the basis [theta, tau_1, …] (model k = order[k]).
    var basis: [[Double]] {
        let n = sources.count
        var b = Array(repeating: [Double](repeating: 0, count: n), count: n)
        for (k, s) in order.enumerated() {
            if k == 0 { b[s][0] = 1; continue }
            b[s][k] = 1
            if !sourceIsTaskVector[s] && !sourceIsTaskVector[anchor] { b[s][0] = 1 }
        }
        return b
    }

    func plan(_ e: TVExpression, _ context: TensorContext) -> TensorPlan {
        let gram = e.containsSlerp ? context.statistics().gram : nil
        let v = e.coefficients(basis: basis, gram: gram)
        return .linear(baseScale: v[0], coefficients: Array(v.dropFirst()))
    }

    /// Streams the expression's value for every tensor into `writer`.
    public func evaluate(_ e: TVExpression, writer: StreamingMerge.WriterFactory, recipeExtra: [String: Any] = [:]) throws -> MergeReport {
        for i in e.sources where !sources.indices.contains(i) {
            throw EngineError.badParameter(source: "expression", reason: "source \(i) does not exist (\(sources.count) sources)")
        }
        let run = StreamingMerge(inputs: inputs, options: options)
        var extra = recipeExtra
        extra["expression"] = String(describing: e)
        let recipe = Provenance.recipe(method: "expression", inputs: inputs, parameters: MergeParameters(), options: options, extra: extra)
        return try run.run(recipe: recipe, planner: { plan(e, $0) }, writer: writer)
    }

    /// Streams the expression's value into a checkpoint file (atomic; never overwrites a source).
    public func evaluate(_ e: TVExpression, to path: String, recipeExtra: [String: Any] = [:]) throws -> MergeReport {
        try evaluate(e, writer: StreamingMerge(inputs: inputs, options: options).fileWriter(path), recipeExtra: recipeExtra)
    }
}

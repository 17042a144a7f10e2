/// Up-front checks of a merge's parameters against the method's typed definitions, before any
/// tensor is read: unknown keys, value counts, finiteness and each definition's valid range, in
/// the global parameters and in every rule.
extension MergeMethod {
    public func check(_ p: MergeParameters, modelCount: Int) throws {
        let numeric = Dictionary(parameters.filter(\.isNumeric).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let choices = Set(parameters.filter { !$0.isNumeric }.map(\.name))
        for key in p.options.keys.sorted() where !choices.contains(key) {
            throw EngineError.unknownParameter(method: name, key: key, known: parameterNames)
        }
        for key in p.allKeys.sorted() where numeric[key] == nil {
            throw EngineError.unknownParameter(method: name, key: key, known: parameterNames)
        }
        for (key, value) in p.global.sorted(by: { $0.key < $1.key }) {
            try check(value, numeric[key]!, modelCount: modelCount, source: "parameters")
        }
        for (i, rule) in p.rules.enumerated() {
            let source = "rule \(i + 1) (\(rule.pattern))"
            for (key, value) in rule.values.sorted(by: { $0.key < $1.key }) {
                try check(value, numeric[key]!, modelCount: modelCount, source: source)
            }
        }
    }

    private func check(_ value: ParameterValue, _ d: MethodParameter, modelCount: Int, source: String) throws {
        let values = try value.forModels(modelCount, key: d.name, source: source)
        if d.kind != .perModelNumber, case .perModel(let vs) = value, Set(vs).count > 1 {
            throw EngineError.badParameter(source: source, reason: "'\(d.name)' takes one value, not one per model")
        }
        for v in values { try d.check(v, method: name, source: source) }
    }
}

import TVStorage

/// One output tensor and where its value comes from.
public struct AlignedTensor: Sendable {
    public enum Source: Sendable, Equatable {
        /// Merged from the base and the models that have it (`present`).
        case compute
        /// The base's tensor as it is: integer/bool/non-arithmetic dtypes, or a skipped mismatch.
        case base
        /// Copied from model `index` (under `--keys union`, for tensors the base lacks).
        case model(Int)
    }

    public let name: String
    /// Name, dtype and shape of the output tensor.
    public let output: TensorInfo
    public let source: Source
    /// Per model: whether it has this tensor (with a usable shape and dtype).
    public let present: [Bool]
    /// Set when the base lacks the tensor and `--missing-in-base` stands in for it: the combine
    /// step gets a synthesized base operand (see `SyntheticBase`), nothing else changes.
    public var syntheticBase: MissingInBasePolicy? = nil
}

/// What alignment left out, carried over or noticed; printed by the commands and kept in `--json`.
public struct AlignmentReport: Sendable {
    /// Tensors not in every input, with the inputs lacking them.
    public var partial: [(tensor: String, missingFrom: [String])] = []
    /// Tensors left out of the output (intersection, or unusable under union).
    public var dropped: [String] = []
    /// Tensors that kept the base's value because of a shape/dtype mismatch (`--mismatch skip`).
    public var skipped: [(tensor: String, reason: String)] = []
    /// Integer, bool and other non-arithmetic tensors copied from the base.
    public var carried: [String] = []
    /// Tensors whose float dtypes differ between inputs (computed in F32/F64 anyway).
    public var mixedDTypes: [String] = []
    /// Tensors the base lacks, merged against an identity or zero base (`--missing-in-base`).
    public var synthesized: [(tensor: String, base: MissingInBasePolicy)] = []

    public var lines: [String] {
        var out: [String] = []
        for p in partial.prefix(20) { out.append("key '\(p.tensor)' missing from \(p.missingFrom.joined(separator: ", "))") }
        if partial.count > 20 { out.append("… and \(partial.count - 20) more tensors missing from some input") }
        if !dropped.isEmpty { out.append("\(dropped.count) tensor(s) left out of the output") }
        for s in skipped { out.append("kept the base's '\(s.tensor)': \(s.reason)") }
        if !carried.isEmpty { out.append("\(carried.count) integer/bool/non-float tensor(s) copied from the base") }
        for kind in [MissingInBasePolicy.identity, .zero] {
            let n = synthesized.filter { $0.base == kind }.count
            if n > 0 { out.append("\(n) tensor(s) the base lacks merged against a\(kind == .identity ? "n identity" : " zero") base") }
        }
        if !mixedDTypes.isEmpty { out.append("\(mixedDTypes.count) tensor(s) have different float dtypes across inputs (computed in float anyway)") }
        return out
    }
}

/// Lines up the base's and models' tensor lists under the key and mismatch policies.
public enum TensorAlignment {
    public static func align(base: any CheckpointReader, models: [any CheckpointReader], modelIsTaskVector: [Bool],
                             keys: KeyPolicy, mismatch: MismatchPolicy, outDType: DType?,
                             missingInBase: MissingInBasePolicy = .error) throws -> ([AlignedTensor], AlignmentReport) {
        var report = AlignmentReport()
        let modelInfos = models.map { r in Dictionary(r.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }) }
        let baseNames = Set(base.tensors.map(\.name))
        var names = base.tensors.map(\.name)
        var seen = baseNames
        for m in models {
            for t in m.tensors where !seen.contains(t.name) {
                seen.insert(t.name)
                names.append(t.name)
            }
        }
        // Missing keys first, so the error names the first offending tensor.
        for name in names {
            var missing: [String] = []
            // Under --missing-in-base identity/zero the base stands in for what it lacks.
            if !baseNames.contains(name) && missingInBase == .error { missing.append(base.path) }
            // A task vector has no integer/bool tensors by definition: not having them is not "missing".
            let baseIsNonFloat = base.info(named: name).map { !$0.dtype.supportsArithmetic } ?? false
            for (i, m) in models.enumerated() where modelInfos[i][name] == nil && !(modelIsTaskVector[i] && baseIsNonFloat) {
                missing.append(m.path)
            }
            if !missing.isEmpty { report.partial.append((name, missing)) }
        }
        if keys == .error, let first = report.partial.first {
            let holder = ([base] + models).first { r in !first.missingFrom.contains(r.path) }?.path ?? "another input"
            throw EngineError.missingKeys(tensor: first.tensor, presentIn: holder, missingFrom: first.missingFrom[0],
                                          more: report.partial.count - 1)
        }

        var entries: [AlignedTensor] = []
        let partialNames = Set(report.partial.map(\.tensor))
        for name in names {
            let isPartial = partialNames.contains(name)
            if isPartial && keys == .intersection { report.dropped.append(name); continue }
            guard let b = base.info(named: name) else {
                if missingInBase != .error {
                    if let e = try synthesized(name, models: models, infos: modelInfos, policy: missingInBase, mismatch: mismatch,
                                               outDType: outDType, report: &report) {
                        entries.append(e)
                    }
                    continue
                }
                // Union, tensor absent from the base: copy a finetuned checkpoint's value.
                if let i = models.indices.first(where: { modelInfos[$0][name] != nil && !modelIsTaskVector[$0] }) {
                    let info = modelInfos[i][name]!
                    entries.append(AlignedTensor(name: name, output: info, source: .model(i),
                                                 present: models.indices.map { modelInfos[$0][name] != nil }))
                } else {
                    report.dropped.append(name)
                }
                continue
            }
            guard b.dtype.supportsArithmetic else {
                report.carried.append(name)
                entries.append(AlignedTensor(name: name, output: b, source: .base, present: models.map { _ in false }))
                continue
            }
            var present: [Bool] = []
            var problem: String?
            var mixed = false
            for (i, m) in models.enumerated() {
                guard let info = modelInfos[i][name] else { present.append(false); continue }
                if info.shape != b.shape {
                    if mismatch == .error { throw EngineError.shapeMismatch(tensor: name, path: m.path, shape: info.shape, expected: b.shape) }
                    problem = problem ?? "\(m.path) has shape \(Shape.describe(info.shape)), base \(Shape.describe(b.shape))"
                } else if !info.dtype.supportsArithmetic {
                    if mismatch == .error { throw EngineError.dtypeMismatch(tensor: name, path: m.path, dtype: info.dtype, expected: b.dtype) }
                    problem = problem ?? "\(m.path) has dtype \(info.dtype.rawValue), base \(b.dtype.rawValue)"
                } else if info.dtype != b.dtype {
                    mixed = true
                }
                present.append(true)
            }
            let out = TensorInfo(name: name, dtype: outDType ?? b.dtype, shape: b.shape)
            if let problem {
                report.skipped.append((name, problem))
                entries.append(AlignedTensor(name: name, output: out, source: .base, present: models.map { _ in false }))
                continue
            }
            if mixed { report.mixedDTypes.append(name) }
            entries.append(AlignedTensor(name: name, output: out, source: .compute, present: present))
        }
        return (entries, report)
    }

    /// A tensor the base lacks, against an identity or zero base: computed like any other tensor
    /// (its base operand is synthesized), with the first model's shape and dtype. A non-float one
    /// (an integer buffer only a finetune has) is copied from the first model that has it.
    private static func synthesized(_ name: String, models: [any CheckpointReader], infos: [[String: TensorInfo]],
                                    policy: MissingInBasePolicy, mismatch: MismatchPolicy, outDType: DType?,
                                    report: inout AlignmentReport) throws -> AlignedTensor? {
        guard let first = models.indices.first(where: { infos[$0][name] != nil }), let info = infos[first][name] else { return nil }
        let present = models.indices.map { infos[$0][name] != nil }
        guard info.dtype.supportsArithmetic else {
            report.carried.append(name)
            return AlignedTensor(name: name, output: info, source: .model(first), present: present)
        }
        for (i, m) in models.enumerated() {
            guard let other = infos[i][name] else { continue }
            if other.shape != info.shape || !other.dtype.supportsArithmetic {
                guard mismatch == .skip else {
                    if other.shape != info.shape { throw EngineError.shapeMismatch(tensor: name, path: m.path, shape: other.shape, expected: info.shape) }
                    throw EngineError.dtypeMismatch(tensor: name, path: m.path, dtype: other.dtype, expected: info.dtype)
                }
                report.dropped.append(name)
                return nil
            }
        }
        if policy == .identity && SyntheticBase.identitySide(info.shape) == nil {
            throw EngineError.notIdentityShaped(tensor: name, path: models[first].path, shape: info.shape)
        }
        report.synthesized.append((name, policy))
        return AlignedTensor(name: name, output: TensorInfo(name: name, dtype: outDType ?? info.dtype, shape: info.shape),
                             source: .compute, present: present, syntheticBase: policy)
    }
}

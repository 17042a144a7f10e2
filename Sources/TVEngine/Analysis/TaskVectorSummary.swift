import TVStorage

/// `tvtool diff`'s numbers: per tensor and in total, ||tau||, ||tau|| / ||theta||, max |tau|,
/// changed / unchanged counts, and the pairwise cosine similarities of the task vectors.
public struct TaskVectorSummary: Sendable, Codable {
    public struct ModelStats: Sendable, Codable {
        public var norm: Double
        public var relativeNorm: Double?
        public var maxAbs: Double
        public var changed: Int
        public var unchanged: Int
    }

    public struct TensorStats: Sendable, Codable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var baseNorm: Double
        public var models: [ModelStats]
    }

    public struct Missing: Sendable, Codable {
        public var tensor: String
        public var missingFrom: [String]
    }

    public struct Mismatch: Sendable, Codable {
        public var tensor: String
        public var reason: String
    }

    public var base: String
    public var models: [String]
    public var tensors: [TensorStats] = []
    public var totals: [ModelStats] = []
    public var baseNorm = 0.0
    /// cosine[i][j] over the whole model (nil where a task vector is zero).
    public var cosine: [[Double?]] = []
    public var onlyInSome: [Missing] = []
    public var mismatches: [Mismatch] = []
    /// Integer/bool tensors (not part of a task vector).
    public var nonFloat: [String] = []
}

public enum TaskVectorAnalysis {
    /// Streams over the tensors common to the base and each model (a model lacking a tensor counts
    /// as unchanged there and is listed in `onlyInSome`; shape/dtype mismatches are listed, not fatal).
    public static func summarize(_ inputs: MergeInputs, options: MergeOptions = MergeOptions()) throws -> TaskVectorSummary {
        let (entries, alignment) = try TensorAlignment.align(
            base: inputs.base, models: inputs.models, modelIsTaskVector: inputs.modelIsTaskVector,
            keys: .union, mismatch: .skip, outDType: nil, missingInBase: options.missingInBase)
        let m = inputs.models.count
        var s = TaskVectorSummary(base: inputs.base.path, models: inputs.models.map(\.path))
        s.onlyInSome = alignment.partial.map { .init(tensor: $0.tensor, missingFrom: $0.missingFrom) }
        s.mismatches = alignment.skipped.map { .init(tensor: $0.tensor, reason: $0.reason) }
        s.nonFloat = alignment.carried
        var gram = Array(repeating: [Double](repeating: 0, count: m + 1), count: m + 1)
        var totals = Array(repeating: TaskVectorSummary.ModelStats(norm: 0, relativeNorm: nil, maxAbs: 0, changed: 0, unchanged: 0), count: m)
        let runner = ChunkRunner(workers: options.workers)
        let progress = ProgressReporter(label: "diff", totalUnits: entries.count, unitName: "tensors", enabled: options.progress)
        defer { progress.finish() }
        for entry in entries {
            defer { progress.advance() }
            try options.cancellation?.check()
            guard entry.source == .compute else { continue }
            let operands = try inputs.operands(for: entry)
            let context = TensorContext(name: entry.name, operands: operands, parameters: MergeParameters(),
                                        precision: options.precision, runner: runner, seed: 0)
            let st = context.statistics()
            operands.releasePages()
            for i in 0...m { for j in 0...m { gram[i][j] += st.gram[i][j] } }
            let n = entry.output.elementCount
            var tensor = TaskVectorSummary.TensorStats(name: entry.name, dtype: (inputs.base.info(named: entry.name)?.dtype ?? entry.output.dtype).rawValue,
                                                       shape: entry.output.shape, baseNorm: st.baseNorm, models: [])
            for i in 0..<m {
                let norm = st.deltaNorm(i)
                tensor.models.append(.init(norm: norm, relativeNorm: st.baseNorm > 0 ? norm / st.baseNorm : nil,
                                           maxAbs: st.maxAbsDelta[i], changed: st.nonZeroDeltas[i], unchanged: n - st.nonZeroDeltas[i]))
                totals[i].maxAbs = max(totals[i].maxAbs, st.maxAbsDelta[i])
                totals[i].changed += st.nonZeroDeltas[i]
                totals[i].unchanged += n - st.nonZeroDeltas[i]
            }
            s.tensors.append(tensor)
        }
        s.baseNorm = gram[0][0].squareRoot()
        for i in 0..<m {
            totals[i].norm = gram[i + 1][i + 1].squareRoot()
            totals[i].relativeNorm = s.baseNorm > 0 ? totals[i].norm / s.baseNorm : nil
        }
        s.totals = totals
        s.cosine = (0..<m).map { i in
            (0..<m).map { j in
                let d = totals[i].norm * totals[j].norm
                return d > 0 ? gram[i + 1][j + 1] / d : nil
            }
        }
        return s
    }
}

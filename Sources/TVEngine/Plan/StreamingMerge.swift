import Foundation
import TVStorage

/// What a finished merge did.
public struct MergeReport: Sendable {
    public var outputPath: String
    public var tensors = 0
    public var computed = 0
    public var copied = 0
    public var outputBytes = 0
    public var inputBytes = 0
    public var seconds = 0.0
    public var alignment = AlignmentReport()
}

/// The streaming evaluator behind every command that writes a checkpoint: aligns the inputs,
/// then for each tensor loads its operands (mapped views), asks `planner` what to compute,
/// evaluates it chunk by chunk in parallel into one of two reused output buffers, releases the
/// inputs' pages, and writes the result on a background queue while the next tensor is computed. Peak memory is about one output tensor plus per-thread chunk
/// scratch, whatever the model size. Nothing is written unless every tensor succeeds (the writer
/// is aborted on error, leaving no partial file).
public struct StreamingMerge {
    public let inputs: MergeInputs
    public let options: MergeOptions
    public let parameters: MergeParameters

    public init(inputs: MergeInputs, parameters: MergeParameters = MergeParameters(), options: MergeOptions = MergeOptions()) {
        self.inputs = inputs
        self.parameters = parameters
        self.options = options
    }

    public typealias WriterFactory = (_ tensors: [TensorInfo], _ metadata: [String: String]) throws -> any CheckpointWriter

    /// A writer factory for a file path (refuses to overwrite any input).
    public func fileWriter(_ path: String) -> WriterFactory {
        let inputs = self.inputs.paths
        return { tensors, metadata in
            try Checkpoints.create(path, tensors: tensors, metadata: metadata, options: CreateOptions(inputs: inputs))
        }
    }

    public func run(recipe: [String: Any], prepare: ((PrePass) throws -> Void)? = nil,
                    planner: (TensorContext) throws -> TensorPlan, writer makeWriter: WriterFactory) throws -> MergeReport {
        let start = Date()
        let (entries, alignment) = try TensorAlignment.align(
            base: inputs.base, models: inputs.models, modelIsTaskVector: inputs.modelIsTaskVector,
            keys: options.keys, mismatch: options.mismatch, outDType: options.outDType, missingInBase: options.missingInBase)
        let runner = ChunkRunner(workers: options.workers)
        let makeContext = { (operands: TensorOperands) in
            TensorContext(name: operands.name, operands: operands, parameters: parameters, precision: options.precision,
                          runner: runner, seed: options.seed, fusedKernels: options.fusedKernels)
        }
        try prepare?(PrePass(inputs: inputs, entries: entries, parameters: parameters, makeContext: makeContext,
                             workers: runner.workers, cancellation: options.cancellation))

        var metadata = options.metadata
        metadata["format"] = metadata["format"] ?? "pt"
        metadata[Provenance.metadataKey] = try Provenance.json(recipe)
        let writer = try makeWriter(entries.map(\.output), metadata)
        var report = MergeReport(outputPath: writer.path, alignment: alignment)
        let progress = ProgressReporter(label: "merge", totalUnits: entries.count, unitName: "tensors",
                                        totalBytes: entries.reduce(0) { $0 + inputBytes($1) }, enabled: options.progress)
        let buffers = [OutputBuffer(), OutputBuffer()]
        let pipeline = WritePipeline(writer)
        do {
            for (k, entry) in entries.enumerated() {
                try options.cancellation?.check()
                let written = try writeOne(entry, writer: writer, pipeline: pipeline, runner: runner, buffer: buffers[k % 2]) { try planner(makeContext($0)) }
                report.tensors += 1
                if entry.source == .compute { report.computed += 1 } else { report.copied += 1 }
                report.outputBytes += written
                report.inputBytes += inputBytes(entry)
                progress.advance(bytes: inputBytes(entry))
            }
            try pipeline.wait()
            progress.finish()
            try writer.finish()
        } catch {
            try? pipeline.wait()
            progress.finish()
            writer.abort()
            throw error
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    private func inputBytes(_ e: AlignedTensor) -> Int {
        let base = inputs.base.info(named: e.name)?.byteCount ?? e.output.byteCount
        return base * (e.present.filter { $0 }.count + 1)
    }

    /// Computes or copies one tensor and writes it; returns the bytes written.
    private func writeOne(_ entry: AlignedTensor, writer: any CheckpointWriter, pipeline: WritePipeline, runner: ChunkRunner, buffer: OutputBuffer,
                          plan makePlan: (TensorOperands) throws -> TensorPlan) throws -> Int {
        switch entry.source {
        case .model(let i):
            let t = try inputs.models[i].tensor(named: entry.name)
            try refuseNonFinite(copied: t, entry, from: inputs.models[i].path)
            try pipeline.submit(t, named: entry.name)
            return t.byteCount
        case .base where !entry.output.dtype.supportsArithmetic || !(inputs.base.info(named: entry.name)?.dtype.supportsArithmetic ?? false):
            let t = try inputs.base.tensor(named: entry.name)
            try refuseNonFinite(copied: t, entry, from: inputs.base.path)
            try pipeline.submit(t, named: entry.name)
            return t.byteCount
        case .base, .compute:
            let operands = try inputs.operands(for: entry)
            // A skipped mismatch still goes through the kernel (it may need a dtype conversion).
            let plan: TensorPlan = entry.source == .base
                ? .linear(baseScale: 1, coefficients: operands.models.map { _ in 0 })
                : try makePlan(operands)
            let fused = fusedKernel(plan, operands: operands, dtype: entry.output.dtype)
            runner.outputCheck.reset()
            if let fused, let ranged = writer as? any RangedCheckpointWriter {
                // Blocks go straight from the workers to the file (the write queue may still be
                // writing the previous tensor: a disjoint range).
                try fused.write(operands, named: entry.name, runner: runner, to: ranged)
                operands.releasePages()
                try refuseNonFinite(entry, runner: runner)
                return entry.output.byteCount
            }
            let out = buffer.reserve(entry.output.byteCount)
            if let fused {
                fused.run(operands, runner: runner, into: out)
            } else {
                evaluate(plan, operands: operands, runner: runner, into: out, dtype: entry.output.dtype)
            }
            operands.releasePages()
            try refuseNonFinite(entry, runner: runner)
            try pipeline.submit(try buffer.tensor(entry.output), named: entry.name)
            return entry.output.byteCount
        }
    }

    /// The kernels watched each output block (`OutputCheck`): an inf/NaN result stops the merge
    /// (the output is discarded) unless the user allowed it.
    private func refuseNonFinite(_ entry: AlignedTensor, runner: ChunkRunner) throws {
        guard !options.allowNonFinite, let i = runner.outputCheck.firstHit else { return }
        throw EngineError.notFinite(tensor: entry.name,
                                    what: "the merged value at element \(i) is inf or NaN (as \(entry.output.dtype.rawValue)); nothing was written (--allow-nonfinite keeps such values)")
    }

    /// A tensor copied through unchanged (only in one model, `--keys union`, a dtype the
    /// kernels do not touch) gets the same rule as a merged one: inf/NaN is an error unless
    /// allowed, so the output never holds non-finite values nobody was told about.
    private func refuseNonFinite(copied t: Tensor, _ entry: AlignedTensor, from input: String) throws {
        guard !options.allowNonFinite,
              let i = t.withUnsafeBytes({ b in b.baseAddress.flatMap { NonFiniteScan.firstIndex($0, count: t.elementCount, dtype: t.dtype) } })
        else { return }
        throw EngineError.notFinite(tensor: entry.name,
                                    what: "the value at element \(i), copied unchanged from \(input), is inf or NaN; nothing was written (--allow-nonfinite keeps such values)")
    }

    /// The fused kernel for a linear or sparse (TIES/DARE/breadcrumbs) plan in F32, when it
    /// handles these dtypes.
    private func fusedKernel(_ plan: TensorPlan, operands: TensorOperands, dtype: DType) -> (any BlockKernel)? {
        switch plan {
        case let .linear(s, c):
            return linearCombination(s, c).fused(operands, outputDType: dtype, precision: options.precision)
        case let .elementwise(e):
            guard options.precision == .f32, options.fusedKernels, let sparse = e as? SparseDeltaCombiner else { return nil }
            return FusedSparse(sparse, operands: operands, outputDType: dtype)
        }
    }

    private func linearCombination(_ baseScale: Double, _ coefficients: [Double]) -> LinearCombination {
        var combination = LinearCombination(baseScale: baseScale, coefficients: coefficients)
        combination.fusedKernels = options.fusedKernels
        return combination
    }

    private func evaluate(_ plan: TensorPlan, operands: TensorOperands, runner: ChunkRunner,
                          into out: UnsafeMutableRawPointer, dtype: DType) {
        let combiner: any ChunkCombiner
        switch plan {
        case let .linear(s, c):
            linearCombination(s, c).compute(operands, outputDType: dtype, precision: options.precision, runner: runner, into: out)
            return
        case let .elementwise(e): combiner = e
        }
        switch options.precision {
        case .f32: runner.forEachChunk(operands, as: Float.self, output: out, outputDType: dtype, rawModels: combiner.wantsRawModels) { combiner.combine($1) }
        case .f64: runner.forEachChunk(operands, as: Double.self, output: out, outputDType: dtype, rawModels: combiner.wantsRawModels) { combiner.combine($1) }
        }
    }
}

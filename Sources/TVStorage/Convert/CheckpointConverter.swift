import Foundation

/// Options for `CheckpointConverter.convert`.
public struct ConvertOptions: Sendable {
    /// Target dtype for floating-point tensors with arithmetic support (F16/BF16/F32/F64); nil keeps
    /// each tensor's dtype. Integer, bool and exotic float (F8, F6, F4, C64) tensors are copied.
    public var dtype: DType?
    /// Shard the safetensors output (see `CreateOptions.maxShardBytes`).
    public var maxShardBytes: Int?
    public var open: OpenOptions
    /// Draw a progress line on stderr (only when it is a terminal).
    public var progress: Bool
    /// Rename to this layout (SD single file ↔ diffusers pipeline); nil keeps the names.
    public var layout: ModelLayout?
    /// A single file → diffusers folder: copy the configs (and tokenizer, scheduler) of this
    /// reference pipeline instead of inferring them; checked against the weights' shapes.
    public var configFrom: String?
    /// A single file → diffusers folder: the scheduler's prediction type (nil: SD's for the version).
    public var predictionType: String?

    public init(dtype: DType? = nil, maxShardBytes: Int? = nil, open: OpenOptions = OpenOptions(), progress: Bool = false) {
        self.dtype = dtype
        self.maxShardBytes = maxShardBytes
        self.open = open
        self.progress = progress
    }
}

/// What a conversion did.
public struct ConvertSummary: Sendable, Codable, Equatable {
    public var tensors: Int
    public var convertedTensors: Int
    public var inputBytes: Int
    public var outputBytes: Int
    /// What the reader skipped or interpreted (datasets of unsupported types, non-tensor pickle
    /// entries, …): a conversion never drops anything without saying so.
    public var notes: [String] = []
}

/// Converts a checkpoint between formats and float dtypes, streaming tensor by tensor: each input
/// tensor is read into a reused buffer (`MappedTensorLoader`), converted into another reused
/// buffer, and written at its place in the output on a background queue (`WritePipeline`) while
/// the next tensor is read and converted; any mapped pages it touched are released. Two sets of
/// buffers alternate (tensor k uses set k % 2; the pipeline finishes writing k - 1 before k's
/// write starts, so set k % 2 is free again when k + 2 is loaded). Peak memory is therefore about
/// four times the largest tensor, whatever the model size. The output appears atomically; on any
/// error nothing is left behind.
public enum CheckpointConverter {
    public static func convert(input: String, output: String, options: ConvertOptions = ConvertOptions()) throws -> ConvertSummary {
        if let d = options.dtype, !d.supportsArithmetic {
            throw StorageError.invalidTensor(tensor: "*", reason: "cannot convert to \(d.rawValue): choose f32, f16, bf16 or f64")
        }
        let opened = options.layout == nil ? try Checkpoints.open(input, options: options.open) : try ModelNaming.open(input, options: options.open)
        var reader = try options.layout.map { try $0.view(of: opened) } ?? opened
        let folderOutput = options.layout != nil && (ModelSet.isFolderOutput(output) || (options.layout == .diffusers && CheckpointFormat.detect(path: output) == nil))
        var template = (opened as? PipelineReader)?.path
        var generated: [String: Data] = [:]
        var extraNotes: [String] = []
        if folderOutput, options.layout == .diffusers, ModelNaming.kind(opened) == .singleFile {
            (reader, template, generated, extraNotes) = try diffusersFolderParts(reader, singleFile: opened, input: input, options: options)
        }
        // An empty output would look like a successful conversion of an empty model.
        guard !reader.tensors.isEmpty else { throw StorageError.noTensors(path: input, detail: reader.notes.joined(separator: "; ")) }
        let targets = reader.tensors.map { targetInfo($0, options.dtype) }
        // The buffers below are sized by the largest tensor: a shape the system cannot allocate
        // (a sparse or damaged file can declare any) is refused before any output exists.
        if let big = zip(reader.tensors, targets).max(by: { max($0.0.byteCount, $0.1.byteCount) < max($1.0.byteCount, $1.1.byteCount) }),
           !ByteStorage.canAllocate(max(big.0.byteCount, big.1.byteCount)) {
            throw StorageError.invalidTensor(tensor: big.0.name, reason: "\(input): shape \(Shape.describe(big.0.shape)) needs \(ByteFormat.human(max(big.0.byteCount, big.1.byteCount))), more memory than this system can allocate; nothing written")
        }
        // Every file read counts as an input: a sharded output must not replace the input's shards.
        var inputs = [input, opened.path] + ((opened as? PipelineReader)?.weightFiles ?? [])
        if let sharded = opened as? ShardedSafetensorsReader { inputs += sharded.shards.map(\.path) }
        let writer: any CheckpointWriter
        if folderOutput {
            writer = try PipelineWriter(path: output, tensors: targets, metadata: reader.metadata, template: template,
                                        variant: options.open.variant, pipeline: ModelNaming.kind(reader) == .pipeline, inputs: inputs,
                                        generated: generated, templateWeights: options.configFrom == nil)
        } else {
            writer = try Checkpoints.create(output, tensors: targets, metadata: reader.metadata,
                                            options: CreateOptions(maxShardBytes: options.maxShardBytes, inputs: inputs))
        }
        let progress = ProgressReporter(label: "convert", totalUnits: targets.count, unitName: "tensors",
                                        totalBytes: reader.totalBytes, enabled: options.progress)
        var summary = ConvertSummary(tensors: targets.count, convertedTensors: 0, inputBytes: 0, outputBytes: 0, notes: reader.notes + extraNotes)
        let pipeline = WritePipeline(writer)
        do {
            let outCapacity = targets.map(\.byteCount).max() ?? 0, inCapacity = reader.tensors.map(\.byteCount).max() ?? 0
            let scratches = [ScratchBuffer(capacity: outCapacity), ScratchBuffer(capacity: outCapacity)]
            let files = MappedFileReader()
            let loaders = [MappedTensorLoader(capacity: inCapacity, files: files), MappedTensorLoader(capacity: inCapacity, files: files)]
            for (k, target) in targets.enumerated() {
                let mapped = try reader.tensor(named: target.name)
                let source = loaders[k % 2].load(mapped)
                if source.dtype == target.dtype {
                    try pipeline.submit(source, named: target.name)
                } else {
                    let converted = try scratches[k % 2].convert(source, to: target.dtype)
                    try pipeline.submit(converted, named: target.name)
                    summary.convertedTensors += 1
                }
                mapped.storage.releasePages()
                summary.inputBytes += source.byteCount
                summary.outputBytes += target.byteCount
                progress.advance(bytes: source.byteCount)
            }
            try pipeline.wait()
            try writer.finish()
            progress.finish()
        } catch {
            progress.finish()
            try? pipeline.wait()  // the writer must be idle before it is aborted
            writer.abort()
            throw error
        }
        return summary
    }

    /// What a diffusers folder made from an SD single file needs besides the renamed weights: the
    /// configs (inferred, or a reference's checked against the weights), without the tensors
    /// diffusers' models do not have (SDConfigs.leftOut), and notes saying what was assumed.
    private static func diffusersFolderParts(_ view: any CheckpointReader, singleFile: any CheckpointReader, input: String,
                                             options: ConvertOptions) throws
        -> (reader: any CheckpointReader, template: String?, generated: [String: Data], notes: [String]) {
        let configs = try SDConfigs(tensors: view.tensors, path: input)
        var notes: [String] = []
        if !configs.leftOut.isEmpty {
            notes.append("\(configs.leftOut.count) OpenCLIP tensor(s) diffusers' SD 2.x text encoder does not have (its last block, which SD 2.x skips, text_projection, logit_scale) are left out of the folder, as diffusers' own converter does")
        }
        let reader = configs.leftOut.isEmpty ? view : try RemappedReader.excluding(Set(configs.leftOut), of: view)
        if let reference = options.configFrom {
            try configs.check(reference: reference)
            return (reader, reference, [:], notes)
        }
        // A damaged betas buffer is an error, not a silent fall-back to SD's default schedule.
        let betas = singleFile.info(named: "betas") != nil ? try singleFile.tensor(named: "betas").doubles() : nil
        notes += configs.notes
        notes.append("configs inferred for SD \(configs.version.rawValue).x from the weights; prediction type \(options.predictionType ?? (configs.version == .v2 ? "v_prediction" : "epsilon")) is not in the weights (--prediction-type, or --config-from a reference pipeline)")
        return (reader, nil, try configs.files(predictionType: options.predictionType, betas: betas), notes)
    }

    /// The output declaration for one input tensor.
    static func targetInfo(_ info: TensorInfo, _ dtype: DType?) -> TensorInfo {
        guard let dtype, info.dtype.supportsArithmetic else { return info }
        return TensorInfo(name: info.name, dtype: dtype, shape: info.shape)
    }
}

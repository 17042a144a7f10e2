import Foundation

/// Options for opening a checkpoint.
public struct OpenOptions: Sendable {
    /// diffusers weight variant, e.g. "fp16" selects `diffusion_pytorch_model.fp16.safetensors`.
    public var variant: String?
    /// For PyTorch files wrapping the state dict (`{"state_dict": …}`): the key to descend into.
    /// nil means: detect the common wrappers (`state_dict`, `model`) automatically.
    public var nestedKey: String?
    /// Verify stored checksums (PyTorch archives: each storage's CRC-32 on its first read).
    public var verifyChecksums: Bool

    public init(variant: String? = nil, nestedKey: String? = nil, verifyChecksums: Bool = true) {
        self.variant = variant
        self.nestedKey = nestedKey
        self.verifyChecksums = verifyChecksums
    }
}

/// Options for creating a checkpoint.
public struct CreateOptions: Sendable {
    /// Split safetensors output into shards of at most this many bytes (plus an index file).
    public var maxShardBytes: Int?
    /// Paths the output must not overwrite (the command's inputs).
    public var inputs: [String]

    public init(maxShardBytes: Int? = nil, inputs: [String] = []) {
        self.maxShardBytes = maxShardBytes
        self.inputs = inputs
    }
}

/// The checkpoint formats tvtool knows, detected from a path.
public enum CheckpointFormat: String, Sendable, CaseIterable {
    case safetensors, shardedSafetensors, hdf5, pytorch, diffusersFolder

    /// Detects the format from the path (extension, index suffix, or a directory).
    public static func detect(path: String) -> CheckpointFormat? {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            return .diffusersFolder
        }
        let lower = path.lowercased()
        if lower.hasSuffix(".safetensors.index.json") { return .shardedSafetensors }
        if lower.hasSuffix(".safetensors") { return .safetensors }
        if lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") || lower.hasSuffix(".he5") { return .hdf5 }
        if lower.hasSuffix(".bin") || lower.hasSuffix(".pt") || lower.hasSuffix(".pth") || lower.hasSuffix(".ckpt") {
            return .pytorch
        }
        return nil
    }
}

/// Opening and creating checkpoints of any supported format: the one entry point every command uses.
public enum Checkpoints {
    public static func open(_ path: String, options: OpenOptions = OpenOptions()) throws -> any CheckpointReader {
        guard let format = CheckpointFormat.detect(path: path) else {
            if !FileManager.default.fileExists(atPath: path) {
                throw StorageError.cannotOpen(path: path, reason: "no such file or directory")
            }
            throw StorageError.unknownFormat(path: path)
        }
        switch format {
        // Each format's reader is wired in here as it lands (safetensors, HDF5, PyTorch).
        case .safetensors: return try SafetensorsReader(path: path)
        case .shardedSafetensors: return try ShardedSafetensorsReader(indexPath: path)
        case .diffusersFolder: return try DiffusersFolder.open(path, options: options)
        case .hdf5: return try HDF5Reader(path: path)
        case .pytorch: return try PyTorchReader(path: path, options: options)
        }
    }

    /// Creates a streaming writer for `path`; the format follows the extension.
    public static func create(_ path: String, tensors: [TensorInfo], metadata: [String: String],
                              options: CreateOptions = CreateOptions()) throws -> any CheckpointWriter {
        try refuseOverwritingInputs(output: path, inputs: options.inputs)
        switch CheckpointFormat.detect(path: path) {
        case .safetensors?, .shardedSafetensors?:
            if options.maxShardBytes != nil || CheckpointFormat.detect(path: path) == .shardedSafetensors {
                return try ShardedSafetensorsWriter(path: path, tensors: tensors, metadata: metadata,
                                                    maxShardBytes: options.maxShardBytes ?? Int.max, inputs: options.inputs)
            }
            return try SafetensorsWriter(path: path, tensors: tensors, metadata: metadata)
        case .hdf5?: return try HDF5Writer(path: path, tensors: tensors, metadata: metadata)
        case .pytorch?: throw StorageError.notSupportedYet(path: path, what: "writing PyTorch checkpoints (write .safetensors instead)")
        case .diffusersFolder?, nil: throw StorageError.unknownFormat(path: path)
        }
    }

    /// Refuses an output path that resolves to one of the inputs, or to a file that already exists
    /// inside an input folder (a new file inside an input folder is fine: no input file is replaced).
    public static func refuseOverwritingInputs(output: String, inputs: [String]) throws {
        let out = URL(fileURLWithPath: output).standardizedFileURL.resolvingSymlinksInPath().path
        let outExists = FileManager.default.fileExists(atPath: out)
        for input in inputs {
            let inp = URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath().path
            if out == inp || (outExists && out.hasPrefix(inp.hasSuffix("/") ? inp : inp + "/")) {
                throw StorageError.wouldOverwriteInput(path: output)
            }
        }
    }
}

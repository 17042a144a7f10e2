import Foundation
import TVStorage

/// Trainer models as diffusers folders. A UNet saved to a path without a file extension (or
/// ending in `/`) is written as a diffusers UNet2DModel folder: `config.json` +
/// `diffusion_pytorch_model.safetensors`, which `UNet2DModel.from_pretrained(folder)` loads. The
/// weights file also carries tvtool's `ModelConfig` in its metadata (schedule, projections;
/// diffusers ignores it), so tvtool reloads exactly what it trained. A path ending in
/// `.safetensors` stays tvtool's single-file checkpoint, as for the MLP.
///
/// Any diffusers UNet2DModel folder loads (e.g. one laid out like google/ddpm-cifar10-32, with
/// `.safetensors` or `.bin` weights): without tvtool metadata the model gets DDPM's linear
/// schedule over `num_train_timesteps` (default 1000), as diffusers' DDPMScheduler.
public enum ModelFolder {
    /// Whether `path` names a folder output for a model of `config` (UNet only).
    public static func isFolderOutput(_ path: String, config: ModelConfig) -> Bool {
        guard config.architecture == UNet2DModel.architecture else { return false }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { return true }
        return path.hasSuffix("/") || URL(fileURLWithPath: path).pathExtension.isEmpty
    }

    /// Writes config.json and the weights (with tvtool's metadata) into `folder` (created if needed).
    public static func save(config: ModelConfig, parameters: FloatBuffer, to folder: String, dtype: DType,
                            metadata: [String: String], inputs: [String]) throws {
        try Checkpoints.refuseOverwritingInputs(output: folder, inputs: inputs)
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw StorageError.cannotWrite(path: folder, reason: "cannot create the model folder")
        }
        let weights = (folder as NSString).appendingPathComponent(UNetFolder.weightsName)
        try ModelCheckpoint.saveFile(config: config, parameters: parameters, to: weights, dtype: dtype, metadata: metadata, inputs: inputs)
        try AtomicFile.write(UNet2DModel.unetSettings(config).jsonData(), to: (folder as NSString).appendingPathComponent(UNetFolder.configName))
    }

    /// Writes the config.json of a UNet `config` into `folder` (whose weights a merge wrote as
    /// `UNetFolder.weightsName`), so the folder is what `save` would have written.
    public static func writeConfig(_ config: ModelConfig, to folder: String) throws {
        guard config.architecture == UNet2DModel.architecture else {
            throw TrainerError.badConfig(source: folder, reason: "only a UNet is written as a diffusers folder (architecture '\(config.architecture)')")
        }
        try AtomicFile.write(UNet2DModel.unetSettings(config).jsonData(), to: (folder as NSString).appendingPathComponent(UNetFolder.configName))
    }

    /// Loads a diffusers UNet2DModel folder (or a pipeline's `unet/`). The config comes from
    /// config.json; tvtool's metadata, when the weights carry it and it describes the same UNet,
    /// adds the schedule.
    public static func load(_ path: String, options: OpenOptions = OpenOptions()) throws -> any TrainableDenoiser {
        let unet = try UNetFolder.load(path, options: options)
        var config = unet.config
        if let reader = try? DiffusersFolder.open(path, options: options),
           reader.metadata[ModelConfig.metadataKey] != nil,
           let recorded = try? ModelConfig.fromMetadata(reader.metadata, source: path),
           recorded.architecture == UNet2DModel.architecture,
           recorded.unet.map({ var u = $0; u.channelProjections = recorded.projections; return u }) == unet.unetConfig {
            config = recorded
        }
        return config == unet.config ? unet : UNet2DModel(config: config, parameters: unet.parameters.array)
    }

    /// The metadata of a model file or folder's weights (empty when unreadable), e.g. the split seed.
    public static func metadata(_ path: String) -> [String: String] {
        (try? Checkpoints.open(path).metadata) ?? [:]
    }
}

extension ModelFolder {
    /// The model config of an open checkpoint without loading its weights: tvtool's metadata,
    /// else (weights of a diffusers folder, whose reader names the weights file) the folder's
    /// config.json, as `load` would build it.
    public static func config(_ reader: any CheckpointReader) throws -> ModelConfig {
        if reader.metadata[ModelConfig.metadataKey] == nil, let json = configFile(of: reader) {
            return UNet2DModel.modelConfig(try UNetConfig.load(json))
        }
        return try ModelConfig.fromMetadata(reader.metadata, source: reader.path)
    }

    /// The config.json beside (or inside) a checkpoint's weights, when one exists: in the
    /// reader's path, its `unet/`, or the folder holding the weights file.
    static func configFile(of reader: any CheckpointReader) -> String? {
        for folder in [reader.path, (reader.path as NSString).deletingLastPathComponent] {
            let json = (UNetFolder.modelFolder(folder) as NSString).appendingPathComponent(UNetFolder.configName)
            if FileManager.default.fileExists(atPath: json) { return json }
        }
        return nil
    }

    /// The UNet2DModel config of a diffusers folder's config.json, for a checkpoint without
    /// tvtool's metadata. nil when there is no config.json, or when it describes another kind of
    /// model (a `_class_name` other than UNet2DModel, e.g. SD's conditional UNet or a VAE; or, as
    /// transformers writes them, no `_class_name` and no `down_block_types`): such a checkpoint is
    /// no trainer model. So is a well-formed UNet2DModel config the trainer does not build
    /// (SkipDownBlock2D, Fourier time embeddings, class conditioning…): its weights still merge.
    /// A config.json that cannot be read, is not a JSON object, or has a malformed field is an error
    /// naming the file, never taken for "no config".
    public static func folderConfig(_ reader: any CheckpointReader) throws(TrainerError) -> ModelConfig? {
        guard let json = configFile(of: reader) else { return nil }
        guard let data = FileManager.default.contents(atPath: json) else {
            throw .badConfig(source: json, reason: "cannot read the file")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let fields = object as? [String: Any] else {
            throw .badConfig(source: json, reason: "not a JSON object")
        }
        if let className = fields["_class_name"] as? String {
            if className != "UNet2DModel" { return nil }
        } else if fields["down_block_types"] == nil {
            return nil
        }
        do {
            return UNet2DModel.modelConfig(try UNetConfig.fromJSON(data, source: json))
        } catch {
            if case .unsupportedConfig = error { return nil }
            throw error
        }
    }
}

import Foundation
import TVStorage

/// Saving and loading trainable denoisers as checkpoints (safetensors through `Checkpoints`), with
/// PyTorch names and layouts and the `ModelConfig` as JSON in the metadata, so the file alone
/// rebuilds the model of the right architecture (and loads into the equivalent PyTorch module of
/// fixtures/trainer/make.py).
public enum ModelCheckpoint {
    /// Named tensors of a flat parameter vector, in layout order.
    public static func tensors(config: ModelConfig, parameters: FloatBuffer, dtype: DType = .f32) throws -> [(String, Tensor)] {
        let layout = try DenoiserArchitectures.layout(for: config)
        precondition(parameters.count == layout.count)
        return try layout.entries.map { e in
            let values = Array(UnsafeBufferPointer(start: parameters.pointer + e.offset, count: e.count))
            return (e.name, try Tensor.fromFloats(values, shape: e.shape, dtype: dtype))
        }
    }

    /// Writes `parameters` (e.g. a trainer's EMA weights) as a model checkpoint: a UNet to a path
    /// without an extension becomes a diffusers folder (`ModelFolder`), anything else one file.
    public static func save(config: ModelConfig, parameters: FloatBuffer, to path: String, dtype: DType = .f32,
                            metadata extra: [String: String] = [:], inputs: [String] = []) throws {
        if ModelFolder.isFolderOutput(path, config: config) {
            try ModelFolder.save(config: config, parameters: parameters, to: path, dtype: dtype, metadata: extra, inputs: inputs)
        } else {
            try saveFile(config: config, parameters: parameters, to: path, dtype: dtype, metadata: extra, inputs: inputs)
        }
    }

    /// Writes one checkpoint file with the config in its metadata.
    static func saveFile(config: ModelConfig, parameters: FloatBuffer, to path: String, dtype: DType,
                         metadata extra: [String: String], inputs: [String]) throws {
        let named = try tensors(config: config, parameters: parameters, dtype: dtype)
        var metadata = extra
        metadata["format"] = "pt"
        metadata[ModelConfig.metadataKey] = config.metadataJSON()
        try Checkpoints.save(named, to: path, metadata: metadata, options: CreateOptions(inputs: inputs))
    }

    public static func save(_ model: any TrainableDenoiser, to path: String, dtype: DType = .f32,
                            metadata: [String: String] = [:], inputs: [String] = []) throws {
        try save(config: model.config, parameters: model.parameters, to: path, dtype: dtype, metadata: metadata, inputs: inputs)
    }

    /// Rebuilds a model from in-memory tensors (any float dtype), e.g. a merged state dict.
    /// `tensor` returns nil for a missing name.
    public static func model(config: ModelConfig, source: String,
                             tensor: (String) throws -> Tensor?) throws -> any TrainableDenoiser {
        try config.validate(source: source)
        let type = try DenoiserArchitectures.type(for: config, source: source)
        let layout = type.layout(for: config)
        var values = [Float](repeating: 0, count: layout.count)
        for e in layout.entries {
            guard let t = try tensor(e.name) else { throw TrainerError.missingTensor(source: source, tensor: e.name) }
            guard t.shape == e.shape else {
                throw TrainerError.wrongShape(source: source, tensor: e.name, expected: e.shape, found: t.shape)
            }
            guard t.dtype.supportsArithmetic else {
                throw StorageError.notArithmetic(path: source, tensor: e.name, dtype: t.dtype)
            }
            let f = try t.floats()
            for j in 0..<e.count { values[e.offset + j] = f[j] }
        }
        return type.init(config: config, parameters: values)
    }

    public static func model(config: ModelConfig, tensors: [String: Tensor], source: String = "<memory>") throws -> any TrainableDenoiser {
        try model(config: config, source: source) { tensors[$0] }
    }

    /// Loads a trainer checkpoint (a file, or a diffusers UNet2DModel folder); with `identityProjections` a model saved without projections
    /// comes back expanded with identity projections (outputs unchanged).
    /// A diffusers UNet2DModel folder loads through `ModelFolder` (config.json + weights).
    public static func load(_ path: String, identityProjections: Bool = false) throws -> any TrainableDenoiser {
        if CheckpointFormat.detect(path: path) == .diffusersFolder {
            let model = try ModelFolder.load(path)
            return identityProjections ? model.expandingWithIdentityProjections() : model
        }
        let reader = try Checkpoints.open(path)
        let config = try ModelConfig.fromMetadata(reader.metadata, source: path)
        let names = Set(reader.tensors.map(\.name))
        let model = try model(config: config, source: path) { name in
            names.contains(name) ? try reader.tensor(named: name) : nil
        }
        return identityProjections ? model.expandingWithIdentityProjections() : model
    }
}

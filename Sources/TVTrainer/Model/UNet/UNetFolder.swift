import Foundation
import TVStorage

/// Reading and writing diffusers model folders for UNet2DModel: `config.json` +
/// `diffusion_pytorch_model.safetensors` (or a sharded index, or `.bin` through the safe PyTorch
/// reader), so `UNet2DModel.from_pretrained(folder)` loads what tvtool writes and back.
public enum UNetFolder {
    public static let configName = "config.json"
    public static let weightsName = "diffusion_pytorch_model.safetensors"

    /// The folder holding config.json: `path` itself, or a pipeline's `unet/`.
    static func modelFolder(_ path: String) -> String {
        let fm = FileManager.default
        if fm.fileExists(atPath: (path as NSString).appendingPathComponent(configName)) { return path }
        let unet = (path as NSString).appendingPathComponent("unet")
        if fm.fileExists(atPath: (unet as NSString).appendingPathComponent(configName)) { return unet }
        return path
    }

    /// Checkpoints written before diffusers 0.14 name the attention projections query/key/value/
    /// proj_attn; diffusers renames them on load, and so does tvtool.
    static func legacyName(_ name: String) -> String? {
        for (new, old) in [(".to_q.", ".query."), (".to_k.", ".key."), (".to_v.", ".value."), (".to_out.0.", ".proj_attn.")]
        where name.contains(new) {
            return name.replacingOccurrences(of: new, with: old)
        }
        return nil
    }

    public static func load(_ path: String, options: OpenOptions = OpenOptions()) throws -> UNet2DModel {
        let folder = modelFolder(path)
        let configPath = (folder as NSString).appendingPathComponent(configName)
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw TrainerError.badConfig(source: path, reason: "no \(configName) (not a diffusers UNet2DModel folder)")
        }
        let config = try UNetConfig.load(configPath)
        let reader = try DiffusersFolder.open(folder, options: options)
        let source = try DiffusersFolder.weightsFile(in: folder, variant: options.variant)
        let layout = UNet2DModel.layout(for: config)
        let present = Set(reader.tensors.map(\.name))
        var used = Set<String>()
        var values = [Float](repeating: 0, count: layout.count)
        for e in layout.entries {
            guard let name = [e.name, legacyName(e.name)].compactMap({ $0 }).first(where: present.contains) else {
                throw TrainerError.missingTensor(source: source, tensor: e.name)
            }
            used.insert(name)
            let t = try reader.tensor(named: name)
            // Legacy attention weights may be stored as 1×1 convs [C, C, 1, 1].
            let squeezed = t.shape.count > e.shape.count ? Array(t.shape.prefix(e.shape.count)) : t.shape
            guard squeezed == e.shape, t.shape.dropFirst(e.shape.count).allSatisfy({ $0 == 1 }) else {
                throw TrainerError.wrongShape(source: source, tensor: name, expected: e.shape, found: t.shape)
            }
            guard t.dtype.supportsArithmetic else { throw StorageError.notArithmetic(path: source, tensor: name, dtype: t.dtype) }
            let f = try t.floats()
            for j in 0..<e.count { values[e.offset + j] = f[j] }
        }
        if let extra = present.subtracting(used).sorted().first {
            throw TrainerError.badData(source: source, reason: "tensor '\(extra)' is not part of the UNet2DModel that \(configName) describes"
                                       + (extra.contains("projection") || extra.contains("lora") ? " (set \(UNetConfig.projectionsKey) for tvtool's projections)" : ""))
        }
        return UNet2DModel(config: config, parameters: values)
    }

    /// Writes config.json and diffusion_pytorch_model.safetensors into `folder` (created if needed).
    public static func save(_ model: UNet2DModel, to folder: String, dtype: DType = .f32, inputs: [String] = []) throws {
        try save(config: model.unetConfig, parameters: model.parameters, to: folder, dtype: dtype, inputs: inputs)
    }

    public static func save(config: UNetConfig, parameters: FloatBuffer, to folder: String, dtype: DType = .f32,
                            inputs: [String] = []) throws {
        let layout = UNet2DModel.layout(for: config)
        precondition(parameters.count == layout.count)
        try Checkpoints.refuseOverwritingInputs(output: folder, inputs: inputs)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let named = try layout.entries.map { e in
            (e.name, try Tensor.fromFloats(Array(UnsafeBufferPointer(start: parameters.pointer + e.offset, count: e.count)),
                                           shape: e.shape, dtype: dtype))
        }
        try Checkpoints.save(named, to: (folder as NSString).appendingPathComponent(weightsName), metadata: ["format": "pt"],
                             options: CreateOptions(inputs: inputs))
        try AtomicFile.write(config.jsonData(), to: (folder as NSString).appendingPathComponent(configName))
    }
}

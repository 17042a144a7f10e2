import Foundation

/// A diffusers pipeline folder (`model_index.json` with unet/, text_encoder/, vae/, …) read as one
/// checkpoint: each component's tensors under `<component>.` (`unet.conv_in.weight`), in
/// model_index.json's order. Components without weights (tokenizer, scheduler) are not tensors;
/// `PipelineWriter` copies them. `--variant fp16` picks `*.fp16.safetensors` in every component.
public final class PipelineReader: CheckpointReader {
    public let path: String
    public let tensors: [TensorInfo]
    public let metadata: [String: String] = [:]
    public let notes: [String]
    /// Component name → its opened weights.
    public let components: [(name: String, reader: any CheckpointReader)]
    private let owner: [String: Int]

    /// True for a folder holding model_index.json.
    public static func isPipeline(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: URL(fileURLWithPath: path).appendingPathComponent("model_index.json").path)
    }

    /// Component folders with weights, in model_index.json's order (then any other with weights).
    public static func componentNames(_ path: String, variant: String?) -> [String] {
        let dir = URL(fileURLWithPath: path)
        var names: [String] = []
        if let data = try? Data(contentsOf: dir.appendingPathComponent("model_index.json")),
           let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            names = json.keys.filter { !$0.hasPrefix("_") }.sorted()
        }
        let listed = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
        for n in listed where !names.contains(n) { names.append(n) }
        return names.filter { name in
            var isDir: ObjCBool = false
            let sub = dir.appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: sub, isDirectory: &isDir), isDir.boolValue else { return false }
            return (try? DiffusersFolder.weightsFile(in: sub, variant: variant, descend: false)) != nil
        }
    }

    public init(path: String, options: OpenOptions = OpenOptions()) throws {
        self.path = path
        let names = Self.componentNames(path, variant: options.variant)
        guard !names.isEmpty else {
            throw DiffusersFolder.Failure.noWeights(path: path, variant: options.variant, found: [])
        }
        var components: [(String, any CheckpointReader)] = []
        var tensors: [TensorInfo] = []
        var owner: [String: Int] = [:]
        var notes: [String] = []
        for name in names {
            let sub = URL(fileURLWithPath: path).appendingPathComponent(name).path
            let file = try DiffusersFolder.weightsFile(in: sub, variant: options.variant, descend: false)
            let reader = try LegacyAttentionNames.view(
                of: try Checkpoints.open(file, options: OpenOptions(variant: nil, nestedKey: options.nestedKey,
                                                                   verifyChecksums: options.verifyChecksums)),
                folder: sub)
            for t in reader.tensors {
                let full = name + "." + t.name
                owner[full] = components.count
                tensors.append(TensorInfo(name: full, dtype: t.dtype, shape: t.shape))
            }
            notes += reader.notes
            components.append((name, reader))
        }
        self.components = components
        self.tensors = tensors
        self.owner = owner
        self.notes = notes
    }

    public func tensor(named name: String) throws -> Tensor {
        guard let i = owner[name] else { throw StorageError.tensorNotFound(path: path, tensor: name) }
        let (component, reader) = components[i]
        return try reader.tensor(named: String(name.dropFirst(component.count + 1)))
    }

    /// Every file a component's weights were read from (for the output-vs-input check).
    public var weightFiles: [String] { components.map(\.reader.path) }
}

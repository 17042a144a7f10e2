import Foundation

/// Writes a diffusers folder: a whole pipeline (tensors named `<component>.<name>` go to
/// `<component>/diffusion_pytorch_model[.variant].safetensors`, or `model…` where the template
/// uses transformers' name) or a single model folder (`component == ""`). Everything that is not
/// a written weights file (model_index.json, config.json, tokenizer/, scheduler/, and components
/// left out of the merge) is copied from the template folder, so diffusers loads the result.
/// The folder is assembled next to its final place and renamed when complete: an error leaves
/// nothing behind, and an existing non-empty folder is never replaced.
public final class PipelineWriter: RangedCheckpointWriter, @unchecked Sendable {
    public let path: String
    private let stage: String
    private let template: String?
    private let writers: [String: SafetensorsWriter]
    /// Output tensor name → (component, name inside it).
    private let routes: [String: (String, String)]
    private let weightNames: [String: String]
    /// Template folders not copied (unmerged components of a task-vector output).
    private let skip: Set<String>
    /// Files written when there is no template (relative path → bytes): generated configs.
    private let generated: [String: Data]
    /// False: only the template's configs and other non-weight files are copied (`--config-from`).
    private let templateWeights: Bool
    private var finished = false

    /// `pipeline`: names carry their component prefix; else one model folder.
    public init(path: String, tensors: [TensorInfo], metadata: [String: String], template: String?, variant: String?,
                pipeline: Bool, inputs: [String], skip: Set<String> = [], generated: [String: Data] = [:], templateWeights: Bool = true) throws {
        let out = URL(fileURLWithPath: path).standardizedFileURL.path
        self.path = out
        self.template = template
        self.skip = skip
        self.generated = generated
        self.templateWeights = templateWeights
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: out, isDirectory: &isDir) {
            guard isDir.boolValue, (try? fm.contentsOfDirectory(atPath: out).isEmpty) == true else {
                throw StorageError.cannotWrite(path: out, reason: "the output folder exists and is not empty")
            }
        }
        try Checkpoints.refuseOverwritingInputs(output: out, inputs: inputs)
        self.stage = out + ".tvtool-partial-\(ProcessInfo.processInfo.processIdentifier)"
        try? fm.removeItem(atPath: stage)
        var groups: [String: [TensorInfo]] = [:], order: [String] = []
        var routes: [String: (String, String)] = [:]
        for t in tensors {
            var component = "", inner = t.name
            if pipeline {
                guard let dot = t.name.firstIndex(of: ".") else {
                    throw StorageError.cannotWrite(path: out, reason: "tensor '\(t.name)' names no pipeline component")
                }
                component = String(t.name[..<dot]); inner = String(t.name[t.name.index(after: dot)...])
            }
            if groups[component] == nil { order.append(component) }
            groups[component, default: []].append(TensorInfo(name: inner, dtype: t.dtype, shape: t.shape))
            routes[t.name] = (component, inner)
        }
        var writers: [String: SafetensorsWriter] = [:], weightNames: [String: String] = [:]
        do {
            for component in order {
                let dir = component.isEmpty ? stage : stage + "/" + component
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
                let stem = Self.stem(template: template, component: component, variant: variant)
                let file = stem + (variant.map { ".\($0)" } ?? "") + ".safetensors"
                weightNames[component] = file
                writers[component] = try SafetensorsWriter(path: dir + "/" + file, tensors: groups[component]!, metadata: metadata)
            }
        } catch {
            for w in writers.values { w.abort() }
            try? fm.removeItem(atPath: stage)
            throw error
        }
        self.writers = writers
        self.routes = routes
        self.weightNames = weightNames
    }

    /// The template's weights-file stem for that component ("model" for transformers' text
    /// encoders), else diffusers' default.
    private static func stem(template: String?, component: String, variant: String?) -> String {
        if let template {
            let dir = component.isEmpty ? template : template + "/" + component
            if let file = (try? DiffusersFolder.weightsFile(in: dir, variant: variant, descend: false))
                ?? (try? DiffusersFolder.weightsFile(in: dir, variant: nil, descend: false)) {
                let name = URL(fileURLWithPath: file).lastPathComponent
                if name.hasPrefix("model.") { return "model" }
            }
        }
        return component.hasPrefix("text_encoder") ? "model" : "diffusion_pytorch_model"
    }

    private func route(_ name: String) throws -> (SafetensorsWriter, String) {
        guard let (component, inner) = routes[name], let w = writers[component] else {
            throw StorageError.cannotWrite(path: path, reason: "tensor '\(name)' was not declared")
        }
        return (w, inner)
    }

    public func write(_ tensor: Tensor, named name: String) throws {
        let (w, inner) = try route(name)
        try w.write(tensor, named: inner)
    }

    public func write(_ bytes: UnsafeRawBufferPointer, ofTensor name: String, at offset: Int) throws {
        let (w, inner) = try route(name)
        try w.write(bytes, ofTensor: inner, at: offset)
    }

    public func completeTensor(_ name: String) throws {
        let (w, inner) = try route(name)
        try w.completeTensor(inner)
    }

    public func finish() throws {
        do {
            for w in writers.values { try w.finish() }
            if let template { try copyTemplate(template) } else if !generated.isEmpty { try writeGenerated() } else if writers[""] == nil { try writeModelIndex() }
            let fm = FileManager.default
            if fm.fileExists(atPath: path) { try fm.removeItem(atPath: path) }  // checked empty at creation
            try fm.moveItem(atPath: stage, toPath: path)
            finished = true
        } catch {
            abort()
            throw StorageError.cannotWrite(path: path, reason: "\(error)")
        }
    }

    public func abort() {
        for w in writers.values { w.abort() }
        try? FileManager.default.removeItem(atPath: stage)
    }

    deinit { if !finished { try? FileManager.default.removeItem(atPath: stage) } }

    /// Copies what the template has and the output does not: non-weight files of written
    /// components, whole folders of the others (tokenizer, scheduler, unmerged components).
    private func copyTemplate(_ template: String) throws {
        let fm = FileManager.default
        for item in try fm.contentsOfDirectory(atPath: template).sorted() where !skip.contains(item) {
            let src = template + "/" + item, dst = stage + "/" + item
            var isDir: ObjCBool = false
            // Listed a moment ago: a vanished entry (isDir false) is copied below and fails there.
            _ = fm.fileExists(atPath: src, isDirectory: &isDir)
            if isDir.boolValue, let _ = writers[item] {
                for file in try fm.contentsOfDirectory(atPath: src) where !Self.isWeightFile(file) {
                    if !fm.fileExists(atPath: dst + "/" + file) { try fm.copyItem(atPath: src + "/" + file, toPath: dst + "/" + file) }
                }
            } else if isDir.boolValue && !templateWeights {
                try copyTree(src, to: dst)
            } else if isDir.boolValue || !((writers[""] != nil || !templateWeights) && Self.isWeightFile(item)) {
                if !fm.fileExists(atPath: dst) { try fm.copyItem(atPath: src, toPath: dst) }
            }
        }
    }

    /// A template folder without its weight files (configs, tokenizer vocabularies…).
    private func copyTree(_ src: String, to dst: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dst, withIntermediateDirectories: true)
        for item in try fm.contentsOfDirectory(atPath: src) where !Self.isWeightFile(item) {
            var isDir: ObjCBool = false
            _ = fm.fileExists(atPath: src + "/" + item, isDirectory: &isDir)
            if isDir.boolValue { try copyTree(src + "/" + item, to: dst + "/" + item) }
            else if !fm.fileExists(atPath: dst + "/" + item) { try fm.copyItem(atPath: src + "/" + item, toPath: dst + "/" + item) }
        }
    }

    private func writeGenerated() throws {
        for (relative, data) in generated.sorted(by: { $0.key < $1.key }) {
            let url = URL(fileURLWithPath: stage + "/" + relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }
    }

    /// Without a template (a pipeline made from an SD single file): a model_index.json naming the
    /// components, so the folder reads back as a pipeline. Their config.json files are not made.
    private func writeModelIndex() throws {
        let classes = ["unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
                       "text_encoder": ["transformers", "CLIPTextModel"]]
        var index: [String: Any] = ["_class_name": "StableDiffusionPipeline"]
        for c in writers.keys.sorted() { index[c] = classes[c] ?? ["diffusers", "ModelMixin"] }
        let data = try JSONSerialization.data(withJSONObject: index, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: stage + "/model_index.json"))
    }

    static func isWeightFile(_ name: String) -> Bool {
        name.hasSuffix(".safetensors") || name.hasSuffix(".bin") || name.hasSuffix(".index.json") || name.hasSuffix(".ckpt") || name.hasSuffix(".pt")
    }
}

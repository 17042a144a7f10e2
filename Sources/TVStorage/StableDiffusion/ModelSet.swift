import Foundation

/// The models of one merge/diff as the commands open them: any naming (SD single file, diffusers
/// model folder, whole pipeline; `ModelNaming`), the weight variant everywhere, and for pipelines
/// the parts to work on (default: every component whose weights differ between the inputs; the
/// others are copied). `writerFactory` writes the result in the base's layout: a file, a diffusers
/// model folder, or a pipeline folder with its configs, tokenizer and scheduler copied.
public struct ModelSet {
    public let readers: [any CheckpointReader]
    /// Pipeline components merged, and components left out because every input has the same bytes.
    public let parts: [String]
    public let copiedParts: [String]
    public let variant: String?
    /// Every file or folder read (the output may replace none of them).
    public let inputPaths: [String]

    public static func open(_ paths: [String], variant: String?, parts requested: [String]? = nil) throws -> ModelSet {
        let opened = try paths.map { try ModelNaming.open($0, options: OpenOptions(variant: variant)) }
        var readers = try ModelNaming.harmonize(opened)
        var inputPaths = paths
        for r in opened { inputPaths += (r as? PipelineReader)?.weightFiles ?? [r.path] }
        var parts: [String] = [], copied: [String] = []
        if let base = readers.first as? PipelineReader {
            let pipelines = readers.compactMap { $0 as? PipelineReader }
            let names = base.components.map(\.name)
            if let requested {
                for p in requested where !names.contains(p) {
                    throw StorageError.cannotOpen(path: base.path, reason: "no pipeline component '\(p)' with weights (has: \(names.joined(separator: ", ")))")
                }
                parts = names.filter(requested.contains)
            } else if pipelines.count == readers.count {
                parts = try names.filter { try !sameBytes(component: $0, in: pipelines) }
                if parts.isEmpty { parts = names }  // identical inputs: merge anyway, as a file merge would
            } else {
                parts = names
            }
            copied = names.filter { !parts.contains($0) }
            if !copied.isEmpty {
                readers = try readers.map { r in try RemappedReader.only(prefixes: parts.map { $0 + "." }, of: r) }
            }
        }
        return ModelSet(readers: readers, parts: parts, copiedParts: copied, variant: variant, inputPaths: inputPaths)
    }

    /// True when every pipeline's component weights file has the same bytes.
    static func sameBytes(component: String, in pipelines: [PipelineReader]) throws -> Bool {
        let files = pipelines.map { p in p.components.first { $0.name == component }?.reader.path }
        guard let first = files.first ?? nil, files.allSatisfy({ $0 != nil }) else { return false }
        let a = try MappedFile(path: first)
        for case let path? in files.dropFirst() {
            let b = try MappedFile(path: path)
            guard a.bytes.count == b.bytes.count else { return false }
            if a.bytes.count > 0, memcmp(a.bytes.baseAddress!, b.bytes.baseAddress!, a.bytes.count) != 0 { return false }
        }
        return true
    }

    /// True when `path` names a folder output (ends in "/" or is an existing folder).
    public static func isFolderOutput(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return path.hasSuffix("/") || (FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue)
    }

    /// Creates the output: a pipeline folder when the base is a pipeline, a model folder when the
    /// path is a folder, else a file in the format of its extension.
    /// `copyUnmergedParts: false` (a task-vector output) leaves the components that were not
    /// computed out instead of copying the base's weights for them.
    /// `inputPaths`: further files read (a LoRA) that the output may not replace either.
    public func create(_ path: String, tensors: [TensorInfo], metadata: [String: String], copyUnmergedParts: Bool = true,
                       inputPaths extra: [String] = []) throws -> any CheckpointWriter {
        let base = readers[0]
        let inputPaths = self.inputPaths + extra
        let pipeline = ModelNaming.kind(base) == .pipeline
        guard Self.isFolderOutput(path) || (pipeline && CheckpointFormat.detect(path: path) == nil) else {
            return try Checkpoints.create(path, tensors: tensors, metadata: metadata, options: CreateOptions(inputs: inputPaths))
        }
        return try PipelineWriter(path: path, tensors: tensors, metadata: metadata, template: template(pipeline: pipeline),
                                  variant: variant, pipeline: pipeline, inputs: inputPaths,
                                  skip: copyUnmergedParts ? [] : Set(copiedParts))
    }

    /// The folder whose configs the output copies: the base pipeline, or the base model's folder.
    private func template(pipeline: Bool) -> String? {
        func unwrapped(_ r: any CheckpointReader) -> any CheckpointReader {
            var reader = r
            while let r = reader as? RemappedReader { reader = r.inner }
            return reader
        }
        let reader = unwrapped(readers[0])
        if let p = reader as? PipelineReader { return pipeline ? p.path : p.path + "/unet" }
        // An SD single-file base written as a pipeline: the configs of a pipeline input (same model shape).
        if pipeline, let p = readers.dropFirst().lazy.map(unwrapped).compactMap({ $0 as? PipelineReader }).first { return p.path }
        let dir = URL(fileURLWithPath: reader.path).deletingLastPathComponent().path
        return FileManager.default.fileExists(atPath: dir + "/config.json") ? dir : nil
    }
}

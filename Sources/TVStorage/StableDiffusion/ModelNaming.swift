/// Opening the inputs of a command that compares or merges models, whatever naming each uses:
/// a diffusers pipeline folder opens whole (`PipelineReader`), and when the inputs mix namings
/// (an SD single file with diffusers folders), the single files are seen in diffusers naming and
/// pipelines are narrowed to their UNet when the others are bare UNets.
public enum ModelNaming {
    public enum Kind: Equatable { case singleFile, pipeline, model }

    public static func kind(_ reader: any CheckpointReader) -> Kind {
        let names = reader.tensors.map(\.name)
        if SDNaming.isSingleFile(names) { return .singleFile }
        if reader is PipelineReader || SDNaming.isPipelineNaming(names) { return .pipeline }
        return .model
    }

    /// Opens a path: a pipeline folder as a whole pipeline, anything else with `Checkpoints.open`.
    public static func open(_ path: String, options: OpenOptions = OpenOptions()) throws -> any CheckpointReader {
        if PipelineReader.isPipeline(path) { return try PipelineReader(path: path, options: options) }
        return try Checkpoints.open(path, options: options)
    }

    /// Brings every reader to one naming: the base's when it can, else diffusers'.
    public static func harmonize(_ readers: [any CheckpointReader]) throws -> [any CheckpointReader] {
        let kinds = readers.map(kind)
        guard Set(kinds).count > 1 else { return readers }
        let target: Kind = kinds.contains(.model) ? .model : .pipeline
        let others = Set(zip(readers, kinds).filter { $0.1 != .singleFile }.flatMap { $0.0.tensors.map(\.name) })
        return try zip(readers, kinds).map { reader, k in
            switch (k, target) {
            case (.singleFile, .pipeline):
                // An SD 2.x single file beside a diffusers pipeline: OpenCLIP's last block,
                // text_projection and logit_scale are not in diffusers' text encoder; leave them out.
                let view = try RemappedReader.diffusersView(of: reader)
                let extras = SDConfigs.openCLIPExtras(view.tensors.map(\.name)).filter { !others.contains($0) }
                return extras.isEmpty ? view : try RemappedReader.excluding(Set(extras), of: view, note: "\(extras.count) OpenCLIP tensor(s) diffusers' SD 2.x text encoder does not have (its last block, text_projection, logit_scale) left out")
            case (.singleFile, .model): return try RemappedReader.component("unet.", of: try RemappedReader.diffusersView(of: reader))
            case (.pipeline, .model): return try RemappedReader.component("unet.", of: reader)
            default: return reader
            }
        }
    }
}

/// The naming `convert --layout` writes.
public enum ModelLayout: String, Sendable, CaseIterable {
    /// `model.diffusion_model.*`, `first_stage_model.*`, `cond_stage_model.*` (one file).
    case sdSingleFile = "sd-single-file"
    /// A diffusers pipeline (`unet/`, `vae/`, `text_encoder/`).
    case diffusers

    /// `reader` under this naming (unchanged when it already uses it).
    public func view(of reader: any CheckpointReader, version: SDNaming.Version? = nil) throws -> any CheckpointReader {
        switch (self, ModelNaming.kind(reader)) {
        case (.diffusers, .singleFile): return try RemappedReader.diffusersView(of: reader)
        case (.sdSingleFile, .pipeline): return try RemappedReader.singleFileView(of: reader, version: version)
        case (.sdSingleFile, .model):
            throw StorageError.cannotOpen(path: reader.path, reason: "a single diffusers model is not a whole SD checkpoint: give the pipeline folder (with unet/, vae/, text_encoder/)")
        default: return reader
        }
    }
}

import Foundation

/// Finds the weights in a diffusers model folder (or a pipeline folder, by descending into its
/// `unet/`) and opens them. Preference: single safetensors, sharded safetensors index, PyTorch
/// `.bin`; with `OpenOptions.variant` (e.g. "fp16") only that variant's files are considered
/// (`diffusion_pytorch_model.fp16.safetensors`, `diffusion_pytorch_model.safetensors.index.fp16.json`,
/// `diffusion_pytorch_model.fp16.bin`). transformers-style `model.safetensors` folders work too.
public enum DiffusersFolder {
    public enum Failure: BadInputError, Equatable {
        case noWeights(path: String, variant: String?, found: [String])

        public var description: String {
            switch self {
            case let .noWeights(path, variant, found):
                let what = variant.map { "no '\($0)' variant weights" } ?? "no model weights"
                let listing = found.isEmpty ? "" : " (weight files present: \(found.joined(separator: ", ")))"
                return "\(path): \(what) found: expected diffusion_pytorch_model.safetensors, a sharded index, a .bin, or a pipeline with unet/\(listing)"
            }
        }
    }

    public static func open(_ path: String, options: OpenOptions = OpenOptions()) throws -> any CheckpointReader {
        let file = try weightsFile(in: path, variant: options.variant)
        let reader = try Checkpoints.open(file, options: OpenOptions(variant: nil, nestedKey: options.nestedKey))
        // Pre-0.14 attention names are renamed as diffusers does on load (UNet2DModel folders).
        return try LegacyAttentionNames.view(of: reader, folder: (file as NSString).deletingLastPathComponent)
    }

    /// The weights file (or shard index) the folder stands for.
    /// `descend: false` looks only in `path` itself (a pipeline's component folder).
    public static func weightsFile(in path: String, variant: String?, descend: Bool = true) throws -> String {
        let fm = FileManager.default
        let dir = URL(fileURLWithPath: path)
        let listing = Set((try? fm.contentsOfDirectory(atPath: path)) ?? [])
        let v = variant.map { "." + $0 } ?? ""
        for stem in ["diffusion_pytorch_model", "model"] {
            let candidates = [
                "\(stem)\(v).safetensors",
                "\(stem).safetensors.index\(v).json",
                "\(stem)\(v).bin",
            ]
            if let hit = candidates.first(where: listing.contains) { return dir.appendingPathComponent(hit).path }
        }
        // A pipeline folder: model_index.json with component folders; the UNet is what tvtool works
        // on. DeMe's finetune output folders keep the EMA UNet in unet_ema_lora/.
        for sub in ["unet", "unet_ema_lora"] where descend {
            var isDir: ObjCBool = false
            let unet = dir.appendingPathComponent(sub).path
            if fm.fileExists(atPath: unet, isDirectory: &isDir), isDir.boolValue {
                return try weightsFile(in: unet, variant: variant)
            }
        }
        let present = listing.filter { $0.hasSuffix(".safetensors") || $0.hasSuffix(".bin") || $0.hasSuffix(".index.json") }
        throw Failure.noWeights(path: path, variant: variant, found: present.sorted())
    }
}

import Foundation
import TVStorage
import TVTrainer

/// Finetuned checkpoints of a pipeline run, kept in one folder so a rerun reuses every finetune
/// whose options and pretrained model are unchanged (recorded in the checkpoint's metadata).
public struct FinetuneStore: Sendable {
    public let directory: URL
    /// Identifies the pretrained model (path, size and parameter checksum), so a finetune from a
    /// different pretrained model is never reused.
    public let pretrainedFingerprint: String
    public static let pretrainedKey = "tvtool.deme_pretrained"
    /// UNet checkpoints are diffusers folders (`UNet2DModel.from_pretrained` loads each finetune);
    /// MLP checkpoints are single files.
    public let folders: Bool

    public init(directory: URL, pretrained: any TrainableDenoiser, pretrainedPath: String) throws {
        self.directory = directory
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        catch { throw DeMeError.invalidArgument("\(directory.path): cannot create folder: \(error.localizedDescription)") }
        pretrainedFingerprint = Self.fingerprint(pretrained, path: pretrainedPath)
        folders = pretrained.config.architecture == UNet2DModel.architecture
    }

    /// A checksum of the parameters (FNV-1a over the float bits) and the config.
    public static func fingerprint(_ model: any TrainableDenoiser, path: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in model.parameters.buffer {
            h = (h ^ UInt64(v.bitPattern)) &* 0x100_0000_01b3
        }
        return "\(URL(fileURLWithPath: path).lastPathComponent) \(model.parameterCount) params fnv1a:\(String(h, radix: 16))"
    }

    /// Where checkpoint `name` lives: `name/` (a diffusers folder) for a UNet, `name.safetensors` else.
    public func path(_ name: String) -> URL {
        folders ? directory.appendingPathComponent(name, isDirectory: true) : directory.appendingPathComponent(name + ".safetensors")
    }

    /// Loads `name` when it was made with the same options from the same pretrained model, else
    /// trains it with `RangeFinetuner` and saves it. Returns the model and whether it was reused.
    public func model(named name: String, options: FinetuneOptions, pretrained: any TrainableDenoiser, train: ImageDataset,
                      showProgress: Bool = true, log: (String) -> Void = { _ in }) throws -> (model: any TrainableDenoiser, reused: Bool) {
        let url = path(name)
        if FileManager.default.fileExists(atPath: url.path),
           let reader = try? Checkpoints.open(url.path),
           reader.metadata[FinetuneOptions.metadataKey] == options.metadataJSON(),
           reader.metadata[Self.pretrainedKey] == pretrainedFingerprint {
            return (try ModelCheckpoint.load(url.path), true)
        }
        let start = Date()
        let progress = ProgressReporter(label: "finetune \(name)", totalUnits: options.steps, unitName: "steps", enabled: showProgress)
        let model = try RangeFinetuner.run(pretrained: pretrained, train: train, options: options) { p in
            progress.advance(status: String(format: "eps-MSE %.4f cons %.4f", p.loss, p.consistency))
        }
        progress.finish()
        try ModelCheckpoint.save(model, to: url.path, metadata: [
            FinetuneOptions.metadataKey: options.metadataJSON(),
            Self.pretrainedKey: pretrainedFingerprint,
        ])
        log(String(format: "finetuned %@ (%d steps, range %@) in %.1f s", name, options.steps, options.range.description, Date().timeIntervalSince(start)))
        return (model, false)
    }
}

import Foundation
import TVStorage

/// What `--resume` needs beyond the saved (EMA) model: the raw weights, AdamW moments, the EMA
/// shadow, the step count and the generator state. Written next to the model as
/// `<model>.train-state.safetensors` so the model file itself holds only model tensors (task
/// vectors are taken over every float tensor of a model file).
public enum TrainingState {
    /// For a diffusers folder output (`out/unet` or `out/unet/`) the state sits beside the folder:
    /// `out/unet.train-state.safetensors`.
    public static func path(forModel model: String) -> String {
        var trimmed = model
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        let base = trimmed.hasSuffix(".safetensors") ? String(trimmed.dropLast(".safetensors".count)) : trimmed
        return base + ".train-state.safetensors"
    }

    public static func save(_ trainer: DiffusionTrainer, to path: String) throws {
        var named: [(String, Tensor)] = [
            ("params", try Tensor.fromFloats(trainer.model.parameters.array, shape: [trainer.model.parameterCount])),
            ("adam.m", try Tensor.fromFloats(trainer.optimizer.m.array, shape: [trainer.model.parameterCount])),
            ("adam.v", try Tensor.fromFloats(trainer.optimizer.v.array, shape: [trainer.model.parameterCount])),
        ]
        if let ema = trainer.ema {
            named.append(("ema", try Tensor.fromFloats(ema.shadow.array, shape: [trainer.model.parameterCount])))
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let metadata: [String: String] = [
            ModelConfig.metadataKey: trainer.model.config.metadataJSON(),
            "tvtool.step": String(trainer.optimizer.step),
            "tvtool.rng": trainer.rng.state.map(String.init).joined(separator: ","),
            "tvtool.training_settings": String(decoding: try enc.encode(trainer.settings), as: UTF8.self),
        ]
        try Checkpoints.save(named, to: path, metadata: metadata)
    }

    /// Restores weights, moments, EMA, step and generator into `trainer` (same config required).
    public static func restore(_ trainer: DiffusionTrainer, from path: String) throws {
        let reader = try Checkpoints.open(path)
        let config = try ModelConfig.fromMetadata(reader.metadata, source: path)
        guard config == trainer.model.config else {
            throw TrainerError.badConfig(source: path, reason: "training state is for a different model config")
        }
        let n = trainer.model.parameterCount
        func vector(_ name: String) throws -> [Float] {
            guard reader.info(named: name) != nil else { throw TrainerError.missingTensor(source: path, tensor: name) }
            let v = try reader.tensor(named: name).floats()
            guard v.count == n else { throw TrainerError.wrongShape(source: path, tensor: name, expected: [n], found: [v.count]) }
            return v
        }
        guard let stepText = reader.metadata["tvtool.step"], let step = Int(stepText),
              let rngText = reader.metadata["tvtool.rng"] else {
            throw TrainerError.badData(source: path, reason: "missing tvtool.step / tvtool.rng metadata")
        }
        let rngState = rngText.split(separator: ",").compactMap { UInt64($0) }
        guard rngState.count == 4 else { throw TrainerError.badData(source: path, reason: "bad tvtool.rng metadata") }
        trainer.model.parameters.assign(try vector("params"))
        trainer.optimizer.restore(m: try vector("adam.m"), v: try vector("adam.v"), step: step)
        if let ema = trainer.ema {
            if reader.info(named: "ema") != nil { ema.shadow.assign(try vector("ema")) } else { ema.shadow.assign(trainer.model.parameters) }
        }
        trainer.rng = TrainerRandom(state: rngState)
    }
}

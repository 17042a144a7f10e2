import Foundation
import TVEngine
import TVStorage
import TVTrainer

/// Writes the final merged model once, with the engine's task arithmetic (`tvtool merge`
/// semantics, streamed from the checkpoint files, provenance recorded in the metadata). The engine
/// and the in-memory search share one combination core (`LinearCombination`), so the file holds
/// the candidate the search evaluated. Returns the model as read back from the file: the report
/// evaluates exactly what was written.
public enum MergedFileWriter {
    @discardableResult
    /// With `groups`, `weights` are per-block (model-major) and become one engine rule per group.
    public static func write(base: String, finetuned: [String], weights: [Double], output: String,
                             config: ModelConfig, groups: BlockGroups? = nil) throws -> any TrainableDenoiser {
        let inputs = try MergeInputs.open(base: base, models: finetuned)
        var options = MergeOptions()
        options.progress = false
        options.metadata = [ModelConfig.metadataKey: config.metadataJSON()]
        let method = try MergeMethods.named("task_arithmetic")
        var parameters = MergeParameters(global: ["weight": .perModel(weights)])
        if let groups {
            parameters = MergeParameters(global: ["weight": .scalar(0)], rules: groups.rules(weights, modelCount: finetuned.count))
        }
        // A UNet to a path without an extension: a diffusers folder (weights + config.json) that
        // UNet2DModel.from_pretrained loads; anything else one tvtool file.
        let folder = ModelFolder.isFolderOutput(output, config: config)
        // A folder this call creates is removed again if the merge or its config fails, so a
        // failed run leaves no half-written model behind.
        let created = folder && !FileManager.default.fileExists(atPath: output)
        if folder {
            do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
                throw StorageError.cannotWrite(path: output, reason: "cannot create the model folder")
            }
        }
        do {
            let weights = folder ? (output as NSString).appendingPathComponent(UNetFolder.weightsName) : output
            _ = try Merger.merge(method: method, inputs: inputs, parameters: parameters,
                                 options: options, output: weights, recipeExtra: ["source": "tvtool deme"])
            if folder { try ModelFolder.writeConfig(config, to: output) }
        } catch {
            if created { try? FileManager.default.removeItem(atPath: output) }
            throw error
        }
        return try ModelCheckpoint.load(output)
    }
}

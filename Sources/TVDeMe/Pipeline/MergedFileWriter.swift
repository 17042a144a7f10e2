import Foundation
import TVEngine
import TVStorage
import TVTrainer

/// Writes the final merged model with the engine's task arithmetic (`tvtool merge` semantics,
/// streamed from the checkpoint files, provenance recorded in the metadata), then checks that the
/// file is the model the in-memory search evaluated: the two merges may differ only by float
/// rounding, so the largest parameter difference must stay below `tolerance`. Returns the model
/// as read back from the file: the report evaluates exactly what was written.
public enum MergedFileWriter {
    @discardableResult
    public static func write(base: String, finetuned: [String], weights: [Double], output: String,
                             config: ModelConfig, expected: any TrainableDenoiser, tolerance: Float = 1e-5) throws -> any TrainableDenoiser {
        let inputs = try MergeInputs.open(base: base, models: finetuned)
        var options = MergeOptions()
        options.progress = false
        options.metadata = [ModelConfig.metadataKey: config.metadataJSON()]
        let method = try MergeMethods.named("task_arithmetic")
        _ = try Merger.merge(method: method, inputs: inputs, parameters: MergeParameters(global: ["weight": .perModel(weights)]),
                             options: options, output: output, recipeExtra: ["source": "tvtool deme"])
        let written = try ModelCheckpoint.load(output)
        var worst: Float = 0
        for i in 0..<expected.parameterCount { worst = max(worst, abs(written.parameters[i] - expected.parameters[i])) }
        guard written.config == expected.config, worst <= tolerance else {
            throw DeMeError.mismatchedModels(path: output, reason: "the engine's merge differs from the in-memory merge by up to \(worst)")
        }
        return written
    }
}

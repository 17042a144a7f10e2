import Foundation
import TVStorage

/// The recipe recorded in an output's `__metadata__` so `tvtool inspect` shows how it was made.
public enum Provenance {
    public static let metadataKey = "tvtool.recipe"
    /// Set by the CLI at start-up (the library does not know the tool's version string).
    nonisolated(unsafe) public static var toolVersion = "unknown"

    /// One input's entry: path, file name and size.
    public static func input(_ reader: any CheckpointReader, role: String) -> [String: Any] {
        var entry: [String: Any] = ["role": role, "path": reader.path,
                                    "name": URL(fileURLWithPath: reader.path).lastPathComponent,
                                    "tensors": reader.tensors.count, "tensor_bytes": reader.totalBytes]
        if let size = (try? FileManager.default.attributesOfItem(atPath: reader.path))?[.size] as? Int { entry["file_bytes"] = size }
        return entry
    }

    /// The standard recipe of a merge: method, inputs, parameters, options, seed, tool version.
    public static func recipe(method: String, inputs: MergeInputs, parameters: MergeParameters,
                              options: MergeOptions, extra: [String: Any] = [:]) -> [String: Any] {
        var r: [String: Any] = extra
        r["tool"] = "tvtool"
        r["tool_version"] = toolVersion
        r["method"] = method
        r["inputs"] = [input(inputs.base, role: "base")] + inputs.models.enumerated().map { i, m in
            input(m, role: inputs.modelIsTaskVector[i] ? "task_vector" : "model")
        }
        r["parameters"] = parameters.jsonValue
        r["seed"] = options.seed
        r["keys"] = options.keys.rawValue
        r["mismatch"] = options.mismatch.rawValue
        if options.missingInBase != .error { r["missing_in_base"] = options.missingInBase.rawValue }
        r["compute_dtype"] = options.precision.rawValue
        if let d = options.outDType { r["out_dtype"] = d.rawValue }
        r["created"] = ISO8601DateFormatter().string(from: Date())
        return r
    }

    public static func json(_ recipe: [String: Any]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: recipe, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

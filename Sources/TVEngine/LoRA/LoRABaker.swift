import Foundation
import TVStorage

/// What `lora bake` did.
public struct LoRABakeReport: Sendable {
    public var outputPath: String
    public var tensors = 0
    /// Model tensors changed by a LoRA module.
    public var baked: [String] = []
    /// LoRA modules with no model tensor (only with allowUnmatched).
    public var unmatched: [String] = []
    public var seconds = 0.0
}

/// Bakes a LoRA into a model: W' = W + scale · (alpha / rank) · up @ down for every module (conv
/// LoRAs: down r×in×kh×kw, up out×r×1×1, so up @ down is reshaped to out×in×kh×kw). Streams the
/// model tensor by tensor (memory: one tensor and its update); tensors without a module are
/// copied. Every module must find its tensor unless `allowUnmatched`.
public enum LoRABaker {
    public static func bake(model: any CheckpointReader, lora: any CheckpointReader, scale: Double,
                            adapterConfig: String? = nil, allowUnmatched: Bool = false, output: String) throws -> LoRABakeReport {
        let start = Date()
        guard scale.isFinite else { throw EngineError.badParameter(source: "--scale", reason: "\(scale) is not a finite number") }
        let modules = try LoRAModules.read(lora, adapterConfig: adapterConfig)
        let targets = LoRATargets(model: model)
        var byTensor: [String: LoRAModule] = [:]
        var unmatched: [String] = []
        for m in modules {
            guard let t = try targets.tensor(for: m.key, path: lora.path) else { unmatched.append(m.key); continue }
            if let other = byTensor[t] { throw LoRAError.ambiguous(path: lora.path, module: m.key, tensors: [t + " (also \(other.key))"]) }
            byTensor[t] = m
        }
        if !unmatched.isEmpty && !allowUnmatched { throw LoRAError.unmatched(path: lora.path, modules: unmatched, model: model.path) }
        // Check every shape before writing anything.
        for (name, m) in byTensor { _ = try factorShape(m, lora: lora, target: model.info(named: name)!) }

        var metadata = model.metadata
        metadata["tvtool.lora_bake"] = "{\"lora\": \(jsonString(lora.path)), \"scale\": \(scale)}"
        let writer = try Checkpoints.create(output, tensors: model.tensors, metadata: metadata,
                                            options: CreateOptions(inputs: [model.path, lora.path]))
        var report = LoRABakeReport(outputPath: writer.path, unmatched: unmatched)
        do {
            for info in model.tensors {
                let t = try model.tensor(named: info.name)
                if let m = byTensor[info.name] {
                    try writer.write(try baked(t, info: info, module: m, lora: lora, scale: scale), named: info.name)
                    report.baked.append(info.name)
                } else {
                    try writer.write(t, named: info.name)
                }
                report.tensors += 1
            }
            try writer.finish()
        } catch {
            writer.abort()
            throw error
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// (rank, out, in·kh·kw) of a module, checked against its target tensor.
    static func factorShape(_ m: LoRAModule, lora: any CheckpointReader, target: TensorInfo) throws -> (rank: Int, rows: Int, columns: Int) {
        guard let down = lora.info(named: m.down), let up = lora.info(named: m.up) else {
            throw LoRAError.incompleteModule(path: lora.path, module: m.key, missing: "down or up")
        }
        guard down.dtype.supportsArithmetic, up.dtype.supportsArithmetic, target.dtype.supportsArithmetic else {
            throw LoRAError.badShape(path: lora.path, module: m.key, reason: "down, up and '\(target.name)' must be floating point")
        }
        guard [2, 4].contains(down.shape.count), [2, 4].contains(up.shape.count), down.shape[0] > 0 else {
            throw LoRAError.badShape(path: lora.path, module: m.key, reason: "down \(Shape.describe(down.shape)) and up \(Shape.describe(up.shape)) are not 2-D or conv matrices")
        }
        let rank = down.shape[0], rows = up.shape[0], columns = down.shape.dropFirst().reduce(1, *)
        guard up.shape.dropFirst().reduce(1, *) == rank, up.shape[1] == rank else {
            throw LoRAError.badShape(path: lora.path, module: m.key, reason: "up \(Shape.describe(up.shape)) does not match rank \(rank) of down \(Shape.describe(down.shape))")
        }
        guard target.shape.first == rows, rows * columns == target.elementCount else {
            throw LoRAError.badShape(path: lora.path, module: m.key,
                                     reason: "up @ down is \(rows)×\(columns), tensor '\(target.name)' has shape \(Shape.describe(target.shape))")
        }
        return (rank, rows, columns)
    }

    private static func baked(_ w: Tensor, info: TensorInfo, module m: LoRAModule, lora: any CheckpointReader, scale: Double) throws -> Tensor {
        let (rank, rows, columns) = try factorShape(m, lora: lora, target: info)
        let down = try lora.tensor(named: m.down).doubles(), up = try lora.tensor(named: m.up).doubles()
        let alpha = m.alpha ?? Double(rank)
        let factor = scale * (m.rsLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank))
        let delta = LowRankAlgebra.product(up, down, m: rows, k: rank, n: columns)
        var values = try w.doubles()
        for i in values.indices { values[i] += factor * delta[i] }
        guard values.allSatisfy(\.isFinite) else { throw EngineError.notFinite(tensor: info.name, what: "baking LoRA module '\(m.key)' gives non-finite values") }
        return try Tensor.fromDoubles(values, shape: info.shape, dtype: info.dtype)
    }

    static func jsonString(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s])) ?? Data("[\"\"]".utf8)
        return String(decoding: data, as: UTF8.self).dropFirst().dropLast().description
    }
}

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

/// Bakes a LoRA into a model: W' = W + scale · ΔW for every module (ΔW: LoRADelta — LoRA
/// (alpha / rank) · up @ down, LyCORIS LoHa and LoKr; conv updates are reshaped to
/// out×in×kh×kw). A module aimed at one of q/k/v of a fused OpenCLIP `in_proj_weight` updates
/// that third of its rows. Streams the model tensor by tensor (memory: one tensor and its
/// update); tensors without a module are copied. Every module must find its tensor unless
/// `allowUnmatched`.
public enum LoRABaker {
    public static func bake(model: any CheckpointReader, lora: any CheckpointReader, scale: Double,
                            adapterConfig: String? = nil, allowUnmatched: Bool = false, output: String,
                            createOutput: ((_ tensors: [TensorInfo], _ metadata: [String: String]) throws -> any CheckpointWriter)? = nil) throws -> LoRABakeReport {
        let start = Date()
        guard scale.isFinite else { throw EngineError.badParameter(source: "--scale", reason: "\(scale) is not a finite number") }
        let modules = try LoRAModules.read(lora, adapterConfig: adapterConfig)
        let targets = LoRATargets(model: model)
        var byTensor: [String: [(module: LoRAModule, part: Int?)]] = [:]
        var unmatched: [String] = []
        for m in modules {
            guard let t = try targets.target(for: m.key, path: lora.path) else { unmatched.append(m.key); continue }
            if let other = byTensor[t.tensor]?.first(where: { $0.part == nil || t.part == nil || $0.part == t.part }) {
                throw LoRAError.ambiguous(path: lora.path, module: m.key, tensors: [t.tensor + " (also \(other.module.key))"])
            }
            byTensor[t.tensor, default: []].append((m, t.part))
        }
        if !unmatched.isEmpty && !allowUnmatched { throw LoRAError.unmatched(path: lora.path, modules: unmatched, model: model.path) }
        // Check every shape before writing anything.
        var plans: [String: LoRADelta.Plan] = [:]
        for (name, list) in byTensor {
            for (m, part) in list { plans[m.key] = try plan(m, part: part, lora: lora, target: model.info(named: name)!) }
        }

        var metadata = model.metadata
        metadata["tvtool.lora_bake"] = "{\"lora\": \(jsonString(lora.path)), \"scale\": \(scale)}"
        // A pipeline folder is written back as one (ModelSet.create), anything else as a file.
        let writer = try createOutput?(model.tensors, metadata)
            ?? Checkpoints.create(output, tensors: model.tensors, metadata: metadata, options: CreateOptions(inputs: [model.path, lora.path]))
        var report = LoRABakeReport(outputPath: writer.path, unmatched: unmatched)
        do {
            for info in model.tensors {
                let t = try model.tensor(named: info.name)
                if let list = byTensor[info.name] {
                    var values = try t.doubles()
                    for (m, part) in list {
                        let p = plans[m.key]!
                        let delta = try LoRADelta.values(m, plan: p, lora: lora)
                        let offset = (part ?? 0) * p.rows * p.columns
                        for i in delta.indices { values[offset + i] += scale * delta[i] }
                    }
                    guard values.allSatisfy(\.isFinite) else {
                        throw EngineError.notFinite(tensor: info.name, what: "baking LoRA module '\(list[0].module.key)' gives non-finite values")
                    }
                    try writer.write(try Tensor.fromDoubles(values, shape: info.shape, dtype: info.dtype), named: info.name)
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

    /// The module's update plan, checked against its target (a third of the rows for a fused q/k/v part).
    static func plan(_ m: LoRAModule, part: Int?, lora: any CheckpointReader, target: TensorInfo) throws -> LoRADelta.Plan {
        guard target.dtype.supportsArithmetic, let first = target.shape.first, first > 0 else {
            throw LoRAError.badShape(path: lora.path, module: m.key, reason: "'\(target.name)' is not a floating-point weight")
        }
        if part != nil, first % 3 != 0 {
            throw LoRAError.badShape(path: lora.path, module: m.key, reason: "'\(target.name)' has \(first) rows, not three equal q/k/v parts")
        }
        let p = try LoRADelta.plan(m, lora: lora)
        let rows = part == nil ? first : first / 3, columns = target.elementCount / first
        guard p.rows == rows, p.columns == columns else {
            let what: String
            switch m.factors {
            case .lowRank: what = "up @ down"
            case .loha: what = "the LoHa update"
            case .lokr: what = "the LoKr update"
            }
            let slice = part.map { " (rows \($0 * rows)..<\(($0 + 1) * rows), its \(["q", "k", "v"][$0]) part)" } ?? ""
            throw LoRAError.badShape(path: lora.path, module: m.key,
                                     reason: "\(what) is \(p.rows)×\(p.columns), tensor '\(target.name)'\(slice) has shape \(Shape.describe(target.shape))")
        }
        return p
    }

    static func jsonString(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s])) ?? Data("[\"\"]".utf8)
        return String(decoding: data, as: UTF8.self).dropFirst().dropLast().description
    }
}

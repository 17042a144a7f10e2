import Foundation
import TVStorage

/// The naming `lora extract` writes.
public enum LoRAFormat: String, Sendable, CaseIterable {
    /// `lora_unet_…` / `lora_te_…` + `.lora_down.weight`, `.lora_up.weight`, `.alpha`.
    case kohya
    /// `base_model.model.<module>.lora_A.weight` / `.lora_B.weight`, and adapter_config.json beside it.
    case peft
}

/// What `lora extract` kept of each factorised tensor.
public struct LoRAExtractReport: Sendable {
    public struct Row: Sendable {
        public var tensor: String
        public var module: String
        public var rank: Int
        /// Σ kept σ² / Σ σ² (1 when the task vector is zero).
        public var energy: Double
        public var keptSquared: Double
        public var totalSquared: Double
    }
    public var outputPath: String
    public var rows: [Row] = []
    /// Float tensors that are not 2-D or conv weights (biases, norms…): a LoRA cannot carry them.
    public var skipped: [String] = []
    /// ‖τ‖² of the skipped tensors, for the share of the task vector the LoRA leaves out.
    public var skippedSquared = 0.0
    public var adapterConfigPath: String?
    public var seconds = 0.0

    public var energy: Double {
        let total = rows.reduce(0) { $0 + $1.totalSquared }
        return total > 0 ? rows.reduce(0) { $0 + $1.keptSquared } / total : 1
    }
}

/// Extracts a rank-r LoRA from a task vector τ = ft − base (or a task-vector file) by truncated
/// SVD per 2-D and conv weight (conv as out × in·kh·kw): up = U_r diag(σ_r), down = V_rᵀ (kohya's
/// split), alpha = r, so baking it at scale 1 adds the best rank-r approximation of τ. Streams
/// tensor by tensor (memory: one tensor's factorisation).
public enum LoRAExtractor {
    public static func extract(base: (any CheckpointReader)?, finetuned: any CheckpointReader, rank: Int, format: LoRAFormat,
                               dtype: DType = .f32, output: String) throws -> LoRAExtractReport {
        let start = Date()
        guard rank >= 1 else { throw LoRAError.badRank(rank) }
        var plan: [(info: TensorInfo, module: String, rows: Int, columns: Int, k: Int)] = []
        var skipped: [TensorInfo] = []
        for t in finetuned.tensors where t.dtype.supportsArithmetic {
            if let b = base {
                guard let bi = b.info(named: t.name) else { continue }
                guard bi.shape == t.shape, bi.dtype.supportsArithmetic else {
                    throw EngineError.shapeMismatch(tensor: t.name, path: finetuned.path, shape: t.shape, expected: bi.shape)
                }
            }
            guard t.name.hasSuffix(".weight"), [2, 4].contains(t.shape.count), t.elementCount > 0 else { skipped.append(t); continue }
            let rows = t.shape[0], columns = t.elementCount / rows
            plan.append((t, module(for: t.name, format: format), rows, columns, min(rank, rows, columns)))
        }
        guard !plan.isEmpty else { throw LoRAError.nothingToExtract(path: finetuned.path) }

        var declared: [TensorInfo] = []
        for p in plan {
            let (down, up, alpha) = keys(p.module, format)
            let conv = p.info.shape.count == 4
            declared.append(TensorInfo(name: down, dtype: dtype, shape: conv ? [p.k] + p.info.shape.dropFirst() : [p.k, p.columns]))
            declared.append(TensorInfo(name: up, dtype: dtype, shape: conv ? [p.rows, p.k, 1, 1] : [p.rows, p.k]))
            if let alpha { declared.append(TensorInfo(name: alpha, dtype: .f32, shape: [])) }
        }
        let inputs = [finetuned.path] + (base.map { [$0.path] } ?? [])
        let metadata = ["format": "pt", "tvtool.lora_extract": "{\"rank\": \(rank), \"format\": \"\(format.rawValue)\"}"]
        let writer = try Checkpoints.create(output, tensors: declared, metadata: metadata, options: CreateOptions(inputs: inputs))
        var report = LoRAExtractReport(outputPath: writer.path)
        do {
            for p in plan {
                let tau = try taskVector(p.info.name, base: base, finetuned: finetuned)
                let f = try LowRankAlgebra.svd(tau, rows: p.rows, columns: p.columns, tensor: p.info.name)
                let n = f.s.count
                var up = [Double](repeating: 0, count: p.rows * p.k)
                for r in 0..<p.rows { for c in 0..<p.k { up[r * p.k + c] = f.u[r * n + c] * f.s[c] } }
                let down = Array(f.vt[0..<(p.k * p.columns)])
                let (downKey, upKey, alphaKey) = keys(p.module, format)
                let conv = p.info.shape.count == 4
                try writer.write(Tensor.fromDoubles(down, shape: conv ? [p.k] + p.info.shape.dropFirst() : [p.k, p.columns], dtype: dtype), named: downKey)
                try writer.write(Tensor.fromDoubles(up, shape: conv ? [p.rows, p.k, 1, 1] : [p.rows, p.k], dtype: dtype), named: upKey)
                if let alphaKey { try writer.write(Tensor.fromFloats([Float(p.k)], shape: [], dtype: .f32), named: alphaKey) }
                let total = f.s.reduce(0) { $0 + $1 * $1 }, kept = f.s.prefix(p.k).reduce(0) { $0 + $1 * $1 }
                report.rows.append(.init(tensor: p.info.name, module: p.module, rank: p.k, energy: total > 0 ? kept / total : 1,
                                         keptSquared: kept, totalSquared: total))
            }
            for s in skipped {
                report.skipped.append(s.name)
                report.skippedSquared += try taskVector(s.name, base: base, finetuned: finetuned).reduce(0) { $0 + $1 * $1 }
            }
            try writer.finish()
        } catch {
            writer.abort()
            throw error
        }
        if format == .peft {
            report.adapterConfigPath = try writeAdapterConfig(beside: writer.path, rank: rank, plan: plan.map { ($0.module, $0.k) })
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    private static func taskVector(_ name: String, base: (any CheckpointReader)?, finetuned: any CheckpointReader) throws -> [Double] {
        var v = try finetuned.tensor(named: name).doubles()
        if let base {
            let b = try base.tensor(named: name).doubles()
            for i in v.indices { v[i] -= b[i] }
        }
        return v
    }

    /// kohya: `lora_unet_` / `lora_te_` + the path after the part prefix, dots as underscores.
    /// PEFT: `base_model.model.` + the module path.
    static func module(for tensor: String, format: LoRAFormat) -> String {
        let path = String(tensor.dropLast(".weight".count))
        switch format {
        case .peft: return "base_model.model." + path
        case .kohya:
            if let p = LoRATargets.unetPrefixes.first(where: path.hasPrefix) {
                return "lora_unet_" + path.dropFirst(p.count).replacingOccurrences(of: ".", with: "_")
            }
            if let p = LoRATargets.textPrefixes.first(where: path.hasPrefix) {
                return "lora_te_" + path.dropFirst(p.count).replacingOccurrences(of: ".", with: "_")
            }
            let part = path.hasPrefix("text_model.") ? "lora_te_" : "lora_unet_"
            return part + path.replacingOccurrences(of: ".", with: "_")
        }
    }

    private static func keys(_ module: String, _ format: LoRAFormat) -> (down: String, up: String, alpha: String?) {
        switch format {
        case .kohya: return (module + ".lora_down.weight", module + ".lora_up.weight", module + ".alpha")
        case .peft: return (module + ".lora_A.weight", module + ".lora_B.weight", nil)
        }
    }

    /// PEFT's config: r and lora_alpha = r; tensors whose rank had to be smaller (min(out, in) < r)
    /// get rank_pattern / alpha_pattern entries so the scale stays 1.
    private static func writeAdapterConfig(beside output: String, rank: Int, plan: [(module: String, k: Int)]) throws -> String {
        let dir = URL(fileURLWithPath: output).deletingLastPathComponent()
        let path = dir.appendingPathComponent("adapter_config.json").path
        var rankPattern: [String: Int] = [:]
        for p in plan where p.k != rank { rankPattern[String(p.module.dropFirst("base_model.model.".count))] = p.k }
        // Full module paths: PEFT matches a target by equality or as a dotted suffix, and a bare
        // last component ("2" of ff.net.2) would catch other modules too.
        let targets = plan.map { String($0.module.dropFirst("base_model.model.".count)) }
        let config: [String: Any] = ["peft_type": "LORA", "r": rank, "lora_alpha": rank, "target_modules": targets,
                                     "rank_pattern": rankPattern, "alpha_pattern": rankPattern, "lora_dropout": 0.0,
                                     "bias": "none", "use_rslora": false]
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw LoRAError.badConfig(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
        return path
    }
}

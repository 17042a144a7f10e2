import ArgumentParser
import Foundation
import TVEngine
import TVStorage

struct LoRACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lora",
        abstract: "Bake a LoRA into a model, or extract a rank-r LoRA from a task vector (docs/lora.md).",
        subcommands: [LoRABakeCommand.self, LoRAExtractCommand.self])
}

struct LoRABakeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bake",
        abstract: "W' = W + scale * dW for every LoRA module (kohya, diffusers or PEFT naming; LyCORIS LoHa and LoKr).",
        discussion: """
            Every LoRA module must match a model tensor (else exit 2, naming the modules), unless
            --allow-unmatched (then they are listed as warnings). PEFT files take lora_alpha, r,
            alpha_pattern and use_rslora from adapter_config.json beside the LoRA file (or
            --adapter-config); without an alpha, alpha = rank.

            Example:
              tvtool lora bake sd15.safetensors style.safetensors --scale 0.8 -o sd15-style.safetensors
              tvtool lora bake sd15-pipeline/ style.safetensors --scale 0.8 -o sd15-style/
            """)

    @Argument(help: "The model checkpoint.") var model: String
    @Argument(help: "The LoRA file.") var lora: String
    @Option(help: "Strength of the LoRA (default 1; negative values subtract it).") var scale: Double = 1
    @Option(name: [.short, .customLong("output")], help: "Output checkpoint.") var output: String
    @Option(name: .customLong("adapter-config"), help: "PEFT adapter_config.json (default: the one beside the LoRA file, if any).")
    var adapterConfig: String?
    @Option(help: "diffusers weight variant to read from a folder model (and write in a folder output), e.g. fp16.") var variant: String?
    @Flag(name: .customLong("allow-unmatched"), help: "Bake the modules that match a tensor and warn about the others.")
    var allowUnmatched = false
    @Flag(help: "Print the outcome as JSON.") var json = false

    func run() throws {
        guard scale.isFinite else { throw ValidationError("--scale must be a finite number") }
        // MODEL may be an SD single file, a diffusers model folder or a whole pipeline folder
        // (unet and text_encoder LoRA modules both find their part); the output keeps its layout.
        let set = try ModelSet.open([model], variant: variant)
        let loraReader = try Checkpoints.open(lora)
        let report = try LoRABaker.bake(model: set.readers[0], lora: loraReader, scale: scale,
                                        adapterConfig: adapterConfig ?? LoRAModules.adapterConfigBeside(lora),
                                        allowUnmatched: allowUnmatched, output: output,
                                        createOutput: { try set.create(output, tensors: $0, metadata: $1, inputPaths: [loraReader.path]) })
        for m in report.unmatched { Console.error("warning: LoRA module '\(m)' matches no tensor of \(model); not baked") }
        if json {
            print(try JSONText.encode(["output": report.outputPath, "tensors": report.tensors, "baked": report.baked,
                                       "unmatched": report.unmatched, "seconds": report.seconds] as [String: Any]))
        } else {
            print("wrote \(report.outputPath): \(report.tensors) tensors, \(report.baked.count) changed by the LoRA (scale \(scale))\(report.unmatched.isEmpty ? "" : ", \(report.unmatched.count) modules unmatched")")
        }
    }
}

struct LoRAExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Extract a rank-r LoRA from a task vector (FT - BASE, or a task-vector file) by truncated SVD.",
        discussion: """
            Each 2-D and conv weight (conv as out x in*kh*kw) is factorised; up = U_r diag(s_r),
            down = V_r^T, alpha = rank, so baking at scale 1 adds the best rank-r approximation.
            Reports per tensor and overall the captured energy (sum of kept s^2 / sum of all s^2);
            biases and norms cannot be carried by a LoRA and are reported as left out.

            Examples:
              tvtool lora extract base.safetensors ft.safetensors --rank 16 -o lora.safetensors
              tvtool lora extract tau.safetensors --rank 8 --format peft -o out/adapter_model.safetensors
            """)

    @Argument(help: "BASE FT, or one task-vector file.") var inputs: [String]
    @Option(help: "Rank r (tensors with min(out, in) < r keep their full rank).") var rank: Int
    @Option(help: "Naming: kohya (default) or peft (with adapter_config.json beside the output).") var format: String = "kohya"
    @Option(help: "Dtype of the factors: f32 (default), f16, bf16.") var dtype: String = "f32"
    @Option(name: [.short, .customLong("output")], help: "Output LoRA file (.safetensors).") var output: String
    @Flag(help: "Print every tensor's captured energy (text), or the whole report as JSON with --json.") var verbose = false
    @Flag(help: "Print the report as JSON.") var json = false

    func run() throws {
        guard (1...2).contains(inputs.count) else { throw ValidationError("give BASE FT, or one task-vector file") }
        guard rank >= 1 else { throw ValidationError("--rank must be at least 1, got \(rank)") }
        guard let f = LoRAFormat(rawValue: format.lowercased()) else { throw ValidationError("--format must be kohya or peft, not '\(format)'") }
        guard let d = DType(userName: dtype), d.supportsArithmetic else { throw ValidationError("--dtype must be f32, f16, bf16 or f64") }
        let base = inputs.count == 2 ? try Checkpoints.open(inputs[0]) : nil
        let report = try LoRAExtractor.extract(base: base, finetuned: try Checkpoints.open(inputs.last!), rank: rank, format: f,
                                               dtype: d, output: output)
        if json {
            let rows = report.rows.map { ["tensor": $0.tensor, "module": $0.module, "rank": $0.rank, "energy": $0.energy] as [String: Any] }
            var obj: [String: Any] = ["output": report.outputPath, "rank": rank, "format": f.rawValue, "energy": report.energy,
                                      "tensors": rows, "left_out": report.skipped, "left_out_squared_norm": report.skippedSquared,
                                      "seconds": report.seconds]
            if let c = report.adapterConfigPath { obj["adapter_config"] = c }
            print(try JSONText.encode(obj))
            return
        }
        if verbose { for r in report.rows { print(String(format: "%8.5f  rank %4d  ", r.energy, r.rank) + r.tensor) } }
        print("wrote \(report.outputPath): \(report.rows.count) modules at rank \(rank), captured energy \(String(format: "%.6f", report.energy)); \(report.skipped.count) non-matrix tensors left out")
    }
}

import Foundation
import ArgumentParser
import TVEngine
import TVStorage
import TVTrainer

/// Options shared by merge, apply and interp: key/mismatch policies, dtypes, threads, progress.
struct EngineOptions: ParsableArguments {
    @Option(help: "Tensors missing from some input: error (default), intersection (leave them out), union (missing = zero task vector; tensors only a finetuned model has are copied from it).")
    var keys: KeyPolicy = .error

    @Option(name: .customLong("missing-in-base"), help: "Tensors the base lacks but the models have (e.g. DeMe's projection layers): error (default: follow --keys), identity (base = I for [C,C] / [C,C,1,1] weights, task vector W - I; other shapes are an error) or zero (task vector W).")
    var missingInBase: MissingInBasePolicy = .error

    @Option(help: "A model's tensor with another shape, or an integer dtype where the base has a float: error (default) or skip (keep the base's value, reported). Different float dtypes (F16 vs BF16) are fine.")
    var mismatch: MismatchPolicy = .error

    @Option(help: "Output dtype of float tensors: f32, f16, bf16, f64 (default: each tensor's base dtype; F16/BF16 round to nearest even).")
    var dtype: String?

    @Option(name: .customLong("compute-dtype"), help: "Arithmetic precision: f32 (default) or f64.")
    var computeDType: String = "f32"

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    @Flag(name: .customLong("allow-nonfinite"), help: "Write outputs that contain inf/NaN, merged or copied unchanged from an input (default: an error naming the tensor).")
    var allowNonFinite = false

    @Option(help: "diffusers weight variant read and written in folders, e.g. fp16 (diffusion_pytorch_model.fp16.safetensors).")
    var variant: String?

    func mergeOptions() throws -> MergeOptions {
        var o = MergeOptions()
        o.keys = keys
        o.mismatch = mismatch
        o.missingInBase = missingInBase
        if let s = dtype {
            guard let d = DType(userName: s), d.supportsArithmetic else { throw ValidationError("--dtype must be f32, f16, bf16 or f64, not '\(s)'") }
            o.outDType = d
        }
        guard let p = ComputePrecision(userName: computeDType) else { throw ValidationError("--compute-dtype must be f32 or f64") }
        o.precision = p
        if let t = threads {
            guard t >= 1 else { throw ValidationError("--threads must be at least 1") }
            o.workers = t
        }
        o.progress = !quiet
        o.allowNonFinite = allowNonFinite
        o.cancellation = Cancellation.setOnTerminationSignal()
        Provenance.toolVersion = TVToolVersion.string
        return o
    }

    /// `metadata` plus the trainer model config the inputs agree on (the output's tensors pick
    /// between layouts), so eval/sample load a merged model file; when they disagree the output
    /// has none and a note says why.
    func withModelConfig(_ metadata: [String: String], readers: [any CheckpointReader], tensors: [TensorInfo]) throws -> [String: String] {
        var o = metadata
        if let note = try CarriedModelConfig.carry(from: readers, outputTensors: tensors.map(\.name), into: &o), !quiet {
            Console.error("note: " + note)
        }
        return o
    }
}

extension KeyPolicy: ExpressibleByArgument {}
extension MismatchPolicy: ExpressibleByArgument {}
extension MissingInBasePolicy: ExpressibleByArgument {}

/// Prints a merge's outcome on stderr (notes) and stdout (one summary line, or JSON).
enum MergeReportPrinter {
    static func print(_ r: MergeReport, json: Bool, quiet: Bool) throws {
        for line in r.alignment.lines where !quiet { Console.error("note: " + line) }
        if json {
            let obj: [String: Any] = [
                "output": r.outputPath, "tensors": r.tensors, "computed": r.computed, "copied": r.copied,
                "output_bytes": r.outputBytes, "seconds": r.seconds,
                "notes": r.alignment.lines,
                "skipped": r.alignment.skipped.map { ["tensor": $0.tensor, "reason": $0.reason] },
                "missing": r.alignment.partial.map { ["tensor": $0.tensor, "missing_from": $0.missingFrom] },
            ]
            Swift.print(try JSONText.encode(obj))
        } else if !quiet {
            printLine("wrote \(r.outputPath): \(r.tensors) tensors (\(r.computed) computed, \(r.copied) copied), \(ByteFormat.human(r.outputBytes)) in \(String(format: "%.2f", r.seconds)) s")
        }
    }
}

import ArgumentParser
import Foundation
import TVEngine
import TVStorage

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Summarise task vectors tau = finetuned - base (and optionally write one).",
        discussion: """
            Prints, per tensor and in total: ||tau||, ||tau|| / ||theta||, max |tau|, changed and \
            unchanged entries; keys only some inputs have and shape/dtype mismatches (listed, not \
            fatal); with several finetuned models, the pairwise cosine similarities of their task \
            vectors over the whole model (what DeMe's analysis looks at). Integer tensors are not part \
            of a task vector.

            With -o (one finetuned model), writes tau over the tensors both have (integer tensors \
            copied from the base); dtype f32 unless --dtype, since rounding small differences to \
            f16 loses precision.

            Examples:
              tvtool diff base.safetensors ft.safetensors -o tau.safetensors
              tvtool diff base.safetensors ft1.safetensors ft2.safetensors ft3.safetensors --json
            """
    )

    @Argument(help: "Base checkpoint, then one or more finetuned checkpoints.")
    var inputs: [String]

    @Option(name: [.short, .customLong("output")], help: "Write the task vector here (one finetuned model only).")
    var output: String?

    @Flag(help: "JSON output (all tensors).")
    var json = false

    @Option(help: "Tensors listed in the table (largest relative change first; 0 = all).")
    var top: Int = 20

    @Option(help: "Dtype of the written task vector: f32 (default), f16, bf16 or f64.")
    var dtype: String = "f32"

    @Option(name: .customLong("compute-dtype"), help: "f32 (default) or f64.")
    var computeDType: String = "f32"

    @Option(name: .customLong("missing-in-base"), help: "Tensors the base lacks: error (default: listed as only in some inputs), identity (task vector W - I for [C,C] / [C,C,1,1] weights) or zero (task vector W).")
    var missingInBase: MissingInBasePolicy = .error

    @Option(help: "diffusers weight variant read (and written) in folders, e.g. fp16.")
    var variant: String?

    @Option(help: "Pipeline components to compare, e.g. unet,text_encoder (default: those whose weights differ).")
    var parts: String?

    @Flag(help: "No progress line.")
    var quiet = false

    func run() throws {
        guard inputs.count >= 2 else { throw ValidationError("give a base checkpoint and at least one finetuned checkpoint") }
        guard output == nil || inputs.count == 2 else { throw ValidationError("-o writes one task vector: give exactly one finetuned model") }
        var options = MergeOptions()
        guard let p = ComputePrecision(userName: computeDType) else { throw ValidationError("--compute-dtype must be f32 or f64") }
        options.precision = p
        options.progress = !quiet
        options.missingInBase = missingInBase
        options.cancellation = Cancellation.setOnTerminationSignal()
        Provenance.toolVersion = TVToolVersion.string
        let set = try ModelSet.open(inputs, variant: variant, parts: parts.map(ParameterParsing.list))
        let readers = set.readers
        let merge = MergeInputs(base: readers[0], models: Array(readers.dropFirst()))
        let summary = try TaskVectorAnalysis.summarize(merge, options: options)
        var written: MergeReport?
        if let output {
            guard let d = DType(userName: dtype), d.supportsArithmetic else { throw ValidationError("--dtype must be f32, f16, bf16 or f64, not '\(dtype)'") }
            options.outDType = d
            options.keys = .intersection
            options.mismatch = .skip
            let evaluator = try ExpressionEvaluator(sources: readers, options: options)
            written = try evaluator.evaluate(.taskVector(finetuned: .source(1), base: .source(0)),
                                             writer: { try set.create(output, tensors: $0, metadata: $1, copyUnmergedParts: false) }, recipeExtra: ["command": "diff"])
        }
        if json {
            print(try JSONText.encode(codable: summary))
        } else {
            DiffTable.print(summary, top: top)
            if let written { print("wrote task vector \(written.outputPath): \(written.tensors) tensors, \(ByteFormat.human(written.outputBytes))") }
        }
    }
}

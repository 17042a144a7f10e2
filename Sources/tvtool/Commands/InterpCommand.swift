import ArgumentParser
import TVEngine
import TVStorage

struct InterpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interp",
        abstract: "Interpolate two checkpoints: lerp A + t (B - A), or slerp per tensor.",
        discussion: """
            t = 0 gives A, t = 1 gives B; values outside [0, 1] extrapolate. --slerp interpolates each \
            flattened tensor along the great circle (Omega = angle between A and B), falling back to \
            lerp when |cos Omega| > 0.9995 or a tensor is zero. Integer tensors come from A.

            Examples:
              tvtool interp a.safetensors b.safetensors --t 0.3 -o mid.safetensors
              tvtool interp a.safetensors b.safetensors --t 0.5 --slerp -o mid.safetensors
            """
    )

    @Argument(help: "Checkpoint A (t = 0).")
    var a: String

    @Argument(help: "Checkpoint B (t = 1).")
    var b: String

    @Option(help: "Interpolation factor.")
    var t: Double

    @Flag(help: "Spherical instead of linear interpolation.")
    var slerp = false

    @Option(name: [.short, .customLong("output")], help: "Output checkpoint.")
    var output: String

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    @OptionGroup var engine: EngineOptions

    func run() throws {
        let options = try engine.mergeOptions()
        let set = try ModelSet.open([a, b], variant: engine.variant)
        let inputs = MergeInputs(base: set.readers[0], models: [set.readers[1]])
        let report = try Merger.merge(method: try MergeMethods.named(slerp ? "slerp" : "lerp"), inputs: inputs,
                                      parameters: MergeParameters(global: ["t": .scalar(t)]), options: options,
                                      writer: { try set.create(output, tensors: $0, metadata: engine.withModelConfig($1, readers: set.readers, tensors: $0)) }, recipeExtra: ["command": "interp"])
        try MergeReportPrinter.print(report, json: json, quiet: engine.quiet)
    }
}

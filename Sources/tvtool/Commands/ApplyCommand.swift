import ArgumentParser
import TVEngine
import TVStorage

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Add task vectors to a base: theta + lambda * sum_j tau_j.",
        discussion: """
            TAU files are task vectors (e.g. from `tvtool diff BASE FT -o tau.safetensors`). Integer \
            tensors come from the base. --scale takes one lambda for all task vectors or one per vector.

            Examples:
              tvtool apply base.safetensors tau.safetensors --scale 0.5 -o out.safetensors
              tvtool apply base.safetensors tau1.safetensors tau2.safetensors --scale 1,-1 -o out.safetensors
            """
    )

    @Argument(help: "Base checkpoint, then one or more task vectors.")
    var inputs: [String]

    @Option(name: [.short, .customLong("output")], help: "Output checkpoint.")
    var output: String

    @Option(help: "lambda: one value, or one per task vector (default 1).")
    var scale: String = "1"

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    @OptionGroup var engine: EngineOptions

    func run() throws {
        guard inputs.count >= 2 else { throw ValidationError("give a base checkpoint and at least one task vector") }
        let options = try engine.mergeOptions()
        let set = try ModelSet.open(inputs, variant: engine.variant)
        let inputs = MergeInputs(base: set.readers[0], models: Array(set.readers.dropFirst()), modelsAreTaskVectors: true)
        let parameters = MergeParameters(global: ["weight": try ParameterParsing.values(scale, key: "--scale")])
        let report = try Merger.merge(method: try MergeMethods.named("task_arithmetic"), inputs: inputs, parameters: parameters,
                                      options: options, writer: { try set.create(output, tensors: $0, metadata: engine.withModelConfig($1, readers: set.readers, tensors: $0)) }, recipeExtra: ["command": "apply"])
        try MergeReportPrinter.print(report, json: json, quiet: engine.quiet)
    }
}

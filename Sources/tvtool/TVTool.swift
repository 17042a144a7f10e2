import ArgumentParser
import TVStorage

/// The root command. Each subcommand lives in its own file under Commands/ and only parses
/// options and delegates to the library modules.
struct TVTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tvtool",
        abstract: "Diffusion-model checkpoints and task vectors: inspect, convert, diff, merge (DeMe, TIES, DARE, …), train, sweep.",
        discussion: """
            Exit codes: 0 success, 1 usage error, 2 bad input (unreadable or malformed file, \
            mismatched tensors, failed evaluation). Errors are printed as one line on stderr.
            """,
        version: TVToolVersion.string,
        subcommands: [
            InspectCommand.self,
            ConvertCommand.self,
            TrainCommand.self, SampleCommand.self, EvalCommand.self,
            DiffCommand.self, MergeCommand.self, ApplyCommand.self, InterpCommand.self,
            LandscapeCommand.self, SearchCommand.self, SweepCommand.self,
            FinetuneCommand.self, DeMeCommand.self,
            LoRACommand.self,
        ]
    )
}

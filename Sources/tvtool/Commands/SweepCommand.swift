import ArgumentParser

/// `tvtool sweep …`: operations on sweep records.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Work with the records of landscape and search sweeps.",
        subcommands: [SweepCollectCommand.self])
}

import ArgumentParser
import Foundation
import TVStorage
import TVSweep

/// `tvtool sweep collect RECORDS… -o DIR`: merges shard records into the outputs of a single run.
struct SweepCollectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Merge the records of sharded runs and write the same outputs a single run writes.",
        discussion: """
            Takes records files or folders (all records*.jsonl inside). They must belong to the same sweep \
            (same inputs, grid, basis and evaluator). Writes OUTPUT/records.jsonl with every point (so the \
            folder can be resumed unsharded to fill gaps), then the landscape outputs (surface.h5, \
            surface.csv, landscape.png) or the search outputs (results.csv, best.json, landscape.png over two weights and, when the input \
            checkpoints are readable here, the best merged checkpoint). Missing points are listed; \
            --strict makes them an error.

            Examples:
              tvtool sweep collect land/records-shard-*.jsonl -o land/
              tvtool sweep collect shards/ -o search/
            """)

    @Argument(help: "Records files or folders.") var records: [String]

    @Option(name: [.customShort("o"), .customLong("output")], help: "Output folder.")
    var output: String

    @Option(name: .customLong("color-scale"), help: "Landscape plot: linear or log.")
    var colorScale: String = "linear"

    @Option(name: .customLong("best-output"), help: "Search: where to write the best merged checkpoint (default: OUTPUT/best.safetensors).")
    var bestOutput: String?

    @Flag(name: .customLong("no-checkpoint"), help: "Search: do not write the best merged checkpoint.")
    var noCheckpoint = false

    @Flag(help: "Fail (exit 2) when points are missing.")
    var strict = false

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false

    func run() throws {
        guard let scale = LandscapePlot.Scale(rawValue: colorScale) else { throw ValidationError("--color-scale must be linear or log") }
        let c = try SweepSession.collect(records)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let merged = SweepSession.recordsPath(directory: output, shard: .whole)
        try SweepSession.writeMerged(manifest: c.manifest, records: c.records, to: merged)
        let missing = SweepPlan.missing(manifest: c.manifest, records: c.records)
        var report: [String: Any] = ["kind": c.manifest.kind, "files": c.files, "points": c.records.records.count,
                                     "failed": c.records.records.filter { $0.status != .ok }.count,
                                     "missing": missing.points.map(\.id), "undetermined_rounds": missing.undeterminedRounds,
                                     "records": merged]
        switch c.manifest.kind {
        case "landscape":
            let out = try LandscapeSweep.writeOutputs(manifest: c.manifest, records: c.records, directory: output, scale: scale)
            report["surface"] = out.surface; report["csv"] = out.csv; report["plot"] = out.plot
        default:
            var family: LinearFamily? = nil
            if !noCheckpoint && c.records.best(c.manifest.goal) != nil {
                do {
                    family = try WeightSearch.prepare(base: c.manifest.inputs[0], models: Array(c.manifest.inputs.dropFirst()))
                } catch {
                    // The records are still worth collecting when the inputs live elsewhere.
                    Console.error("note: not writing the best checkpoint: \(error) (run collect where the inputs are readable, or pass --no-checkpoint)")
                }
            }
            let best = bestOutput ?? URL(fileURLWithPath: output).appendingPathComponent("best.safetensors").path
            let summary = try WeightSearch.writeOutputs(manifest: c.manifest, records: c.records, family: family,
                                                        directory: output, bestCheckpoint: family == nil ? nil : best)
            report["best_checkpoint"] = summary.bestCheckpoint ?? NSNull()
            if let plot = summary.plot { report["plot"] = plot }
        }
        if let best = c.records.best(c.manifest.goal) {
            report["best"] = ["id": best.id, "coordinates": best.coordinates, "value": best.value!] as [String: Any]
        }
        if json { SweepReport.printJSON(report) } else {
            Console.error("collected \(c.records.records.count) points from \(c.files.count) files into \(output)")
            if c.tornTails > 0 { Console.error("note: \(c.tornTails) file(s) ended in an incomplete line (a killed run); it was ignored") }
            if !missing.points.isEmpty {
                let shown = missing.points.prefix(10).map(\.id).joined(separator: "; ")
                Console.error("missing \(missing.points.count) point(s): \(shown)\(missing.points.count > 10 ? "; …" : "")")
            }
        }
        if strict && (!missing.points.isEmpty || missing.undeterminedRounds > 0) {
            throw CollectError.missing(missing.points.count)
        }
    }
}

enum CollectError: BadInputError {
    case missing(Int)
    var description: String { "\(self.count) point(s) of the sweep have no record (see the list above)" }
    private var count: Int { if case let .missing(n) = self { return n }; return 0 }
}

import Foundation
import TVStorage
import TVTrainer

/// The outcome of a DeMe run: configuration, the table of models, the verdicts of the merged model
/// against each baseline, the weight search and timings. Written as report.md and report.json.
public struct DeMeReport: Codable, Sendable {
    public var configuration: [String: String]
    public var ranges: [TimestepRange]
    /// Items of the report set (images × timesteps) and of the search set, which share no image.
    public var reportSet: String
    public var searchSet: String
    public var rows: [ReportRow]
    public var ablation: [ReportRow]
    public var verdicts: [Verdict]
    public var searchObjective: String
    public var searchedPoints: Int
    public var timings: [String: Double]
    public var files: [String: String]
    public var notes: [String]

    public init(configuration: [String: String], ranges: [TimestepRange], reportSet: String, searchSet: String,
                rows: [ReportRow], ablation: [ReportRow] = [], verdicts: [Verdict],
                searchObjective: String, searchedPoints: Int, timings: [String: Double] = [:],
                files: [String: String] = [:], notes: [String] = []) {
        self.configuration = configuration
        self.ranges = ranges
        self.reportSet = reportSet
        self.searchSet = searchSet
        self.rows = rows
        self.ablation = ablation
        self.verdicts = verdicts
        self.searchObjective = searchObjective
        self.searchedPoints = searchedPoints
        self.timings = timings
        self.files = files
        self.notes = notes
    }

    /// report.json: the report with snake_case keys (`held_out_mse`, `search_set_mse`, …), the key
    /// style of every tvtool JSON output; non-finite numbers as "nan"/"inf" strings. JSONEncoder
    /// (shortest round-trip doubles) with a key strategy, which does not reach dictionary keys, so
    /// the label-keyed maps are re-keyed first.
    public func json() throws -> Data {
        var file = self
        let snake = { (d: [String: String]) in Dictionary(d.map { (SnakeCaseKeys.key($0.key), $0.value) }, uniquingKeysWith: { a, _ in a }) }
        file.configuration = snake(configuration)
        file.files = snake(files)
        file.timings = Dictionary(timings.map { (SnakeCaseKeys.key($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        enc.keyEncodingStrategy = .custom { path in SnakeKey(SnakeCaseKeys.key(path.last?.stringValue ?? "")) }
        return try enc.encode(file)
    }

    /// Writes report.md and report.json into `directory` (atomically).
    public func write(to directory: URL) throws {
        try TextFile.write(markdown(), to: directory.appendingPathComponent("report.md"))
        try TextFile.write(json(), to: directory.appendingPathComponent("report.json"))
    }

    public func markdown() -> String {
        var md = ["# DeMe (Decouple-then-Merge) report", ""]
        md.append("Held-out epsilon-MSE is averaged uniformly over t on the report set (\(reportSet)); the weight search used a different, image-disjoint set (\(searchSet)). Differences (Δ, row minus pretrained) are paired over images, with their standard error; \"beats\" means by more than 2 SE. Lower is better everywhere.")
        md.append("")
        md += table(rows)
        if !ablation.isEmpty {
            md += ["", "## Ablation (paper's Table order)", ""]
            md += table(ablation)
        }
        md += ["", "## Verdicts", ""]
        md += verdicts.map { "- " + $0.sentence }
        md += ["", "## Per-range Δ vs pretrained (± SE)", ""]
        md.append("| model | " + ranges.map(\.label).joined(separator: " | ") + " |")
        md.append("|---|" + ranges.map { _ in "---|" }.joined())
        for r in rows + ablation {
            guard let per = r.perRangeVersusPretrained else { continue }
            md.append("| \(r.name) | " + per.map { "\(Fmt.sci($0.meanDifference)) ± \(Fmt.se($0.standardError))" }.joined(separator: " | ") + " |")
        }
        md += ["", "## Weight search", "", "Objective: \(searchObjective); \(searchedPoints) candidates evaluated (every point is in search_*.csv / search_*.jsonl)."]
        for r in rows + ablation where r.weights != nil { md.append("- \(r.name): weights \(Fmt.weights(r.weights))") }
        if !configuration.isEmpty {
            md += ["", "## Configuration", ""]
            md += configuration.keys.sorted().map { "- \($0): \(configuration[$0]!)" }
        }
        if !files.isEmpty {
            md += ["", "## Files", ""]
            md += files.keys.sorted().map { "- \($0): \(files[$0]!)" }
        }
        if !timings.isEmpty {
            md += ["", "## Timings", ""]
            // The pipeline's stages in the order they run, then any others.
            let stages = ["finetune", "search", "merged file", "report evaluation", "sample grids", "total"]
            let keys = stages.filter { timings[$0] != nil } + timings.keys.filter { !stages.contains($0) }.sorted()
            md += keys.map { "- \($0): \(Fmt.fixed(timings[$0]!, 1)) s" }
        }
        if !notes.isEmpty { md += ["", "## Notes", ""] + notes.map { "- " + $0 } }
        return md.joined(separator: "\n") + "\n"
    }

    private func table(_ rows: [ReportRow]) -> [String] {
        var out = ["| model | held-out eps-MSE | Δ vs pretrained ± SE | z | " + ranges.map { "MSE \($0.label)" }.joined(separator: " | ") + " | Fréchet (mean ± sd over seeds) | search-set eps-MSE | detail |"]
        out.append("|---|---|---|---|" + ranges.map { _ in "---|" }.joined() + "---|---|---|")
        for r in rows {
            let d = r.versusPretrained.map { "\(Fmt.sci($0.meanDifference)) ± \(Fmt.se($0.standardError))" } ?? "—"
            let z = r.versusPretrained.map { Fmt.fixed($0.zScore, 1) } ?? "—"
            let fd = r.frechet.map { "\(Fmt.fixed($0.mean, 4)) ± \(Fmt.fixed($0.standardDeviation, 4)) (n=\($0.values.count))" } ?? "—"
            var detail = r.detail
            if let w = r.weights { detail += " w=\(Fmt.weights(w))" }
            out.append("| \(r.name) | \(Fmt.fixed(r.heldOutMSE, 5)) | \(d) | \(z) | " + r.perRangeMSE.map { Fmt.fixed($0, 5) }.joined(separator: " | ") + " | \(fd) | \(r.searchSetMSE.map { Fmt.fixed($0, 5) } ?? "—") | \(detail) |")
        }
        return out
    }
}

/// A coding key renamed to snake_case for report.json.
private struct SnakeKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

import Foundation

/// Writes every evaluated point of a weight search as CSV (`round,w1..wN,objective`) and as JSON
/// lines, so a search can be inspected or plotted afterwards.
public enum SearchLog {
    public static func csv(_ points: [SearchPoint], weightNames: [String]) -> String {
        var lines = [(["round"] + weightNames + ["objective"]).joined(separator: ",")]
        for p in points {
            lines.append(([String(p.round)] + p.weights.map { String($0) } + [String(p.objective)]).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func jsonLines(_ points: [SearchPoint]) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try points.map { String(decoding: try enc.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
    }

    /// Writes `<stem>.csv` and `<stem>.jsonl` atomically.
    public static func write(_ points: [SearchPoint], weightNames: [String], stem: URL) throws {
        try TextFile.write(csv(points, weightNames: weightNames), to: stem.appendingPathExtension("csv"))
        try TextFile.write(jsonLines(points), to: stem.appendingPathExtension("jsonl"))
    }
}

/// Atomic text output (temporary file + rename), so an error never leaves a partial file.
public enum TextFile {
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    public static func write(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) }
        catch { throw DeMeError.invalidArgument("\(url.path): cannot write: \(error.localizedDescription)") }
    }
}

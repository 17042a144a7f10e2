import Foundation
import TVStorage

/// The CSV view of a sweep's records: one row per point in (round, index) order with the axis
/// values, status, value, its standard error (when the evaluator gives one) and error: the same
/// columns for `deme`, `search` and `landscape`. Timings are left out (they live in the JSONL records) so a
/// sharded-then-collected sweep produces the same CSV as a single run.
public enum RecordsCSV {
    public static func render(_ records: [PointRecord], axisNames: [String]) -> String {
        var out = (["id", "round", "index"] + axisNames + ["status", "value", "standard_error", "error"]).map(field).joined(separator: ",") + "\n"
        for r in records {
            var row = [r.id, String(r.round), String(r.index)]
            row += r.coordinates.map { GridNumber.format($0) }
            row += [r.status.rawValue, r.value.map { "\($0)" } ?? "", r.standardError.map { "\($0)" } ?? "", r.error ?? ""]
            out += row.map(field).joined(separator: ",") + "\n"
        }
        return out
    }

    /// One cell: control characters escaped as the terminal shows them (`\u{1b}`; line breaks
    /// too, so a row stays one line whatever an evaluator printed), then quoted when it holds a
    /// comma or quote (RFC 4180, quotes doubled).
    static func field(_ raw: String) -> String {
        let s = Console.oneLine(raw)
        guard s.contains(where: { $0 == "," || $0 == "\"" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

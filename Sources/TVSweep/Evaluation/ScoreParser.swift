import Foundation

/// Reads an evaluator's score from the last non-empty line of its stdout: either a bare number
/// ("12.7") or a JSON object holding the number under `field` ({"fid": 12.7, "n": 5000}).
public struct ScoreParser: Sendable, Hashable {
    /// The JSON field to read; nil accepts bare numbers only, plus {"score": …}.
    public let field: String?

    public init(field: String? = nil) { self.field = field }

    public func score(fromStdout data: Data) throws(EvaluationFailure) -> Double {
        let text = String(decoding: data, as: UTF8.self)
        guard let line = text.split(whereSeparator: \.isNewline).last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw EvaluationFailure(message: "the command printed nothing on stdout (expected the score on its last line)")
        }
        let last = line.trimmingCharacters(in: .whitespaces)
        if field == nil, let v = Double(last) { return try finite(v, last) }
        if last.hasPrefix("{"), let obj = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any] {
            let key = field ?? "score"
            guard let raw = obj[key] else {
                throw EvaluationFailure(message: "the last stdout line is a JSON object without the field '\(key)'")
            }
            if let n = raw as? NSNumber, !(raw is Bool) { return try finite(n.doubleValue, last) }
            if let s = raw as? String, let v = Double(s) { return try finite(v, last) }
            throw EvaluationFailure(message: "field '\(key)' of the last stdout line is not a number")
        }
        if let field {
            throw EvaluationFailure(message: "the last stdout line is not a JSON object with the field '\(field)': \(Self.clip(last))")
        }
        throw EvaluationFailure(message: "the last stdout line is not a number or JSON object: \(Self.clip(last))")
    }

    private func finite(_ v: Double, _ line: String) throws(EvaluationFailure) -> Double {
        guard v.isFinite else { throw EvaluationFailure(message: PointRecord.nonFiniteScore + ": \(Self.clip(line))") }
        return v
    }

    static func clip(_ s: String, _ n: Int = 120) -> String {
        s.count <= n ? s : String(s.prefix(n)) + "…"
    }

    /// The last `lines` lines of `data` (at most 2000 characters), for failure records.
    public static func tail(_ data: Data, lines: Int = 20) -> String {
        let text = String(decoding: data.suffix(16_384), as: UTF8.self)
        let kept = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1).joined(separator: "\n")
        let trimmed = kept.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.count <= 2000 ? trimmed : "…" + String(trimmed.suffix(2000))
    }
}

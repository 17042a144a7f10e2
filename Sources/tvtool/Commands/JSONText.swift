import Foundation
import TVStorage

/// Every `--json` output goes through here, so all commands print the same style: sorted
/// snake_case keys, numbers as numbers, NaN/infinity as null (JSON has no such numbers; before,
/// one NaN made the whole output an internal encoding error or vanish).
enum JSONText {
    /// A JSON-compatible value (dictionaries, arrays, strings, numbers, bools, NSNull).
    static func encode(_ obj: Any) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: sanitized(obj), options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// A Codable value, its camelCase property names turned into snake_case keys.
    static func encode<T: Encodable>(codable value: T) throws -> String {
        let enc = JSONEncoder()
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let object = try JSONSerialization.jsonObject(with: enc.encode(value), options: [.fragmentsAllowed])
        return try encode(snakeCased(sanitized(object, nonFiniteStrings: true)))
    }

    /// Already-encoded JSON (e.g. a report file's bytes), re-keyed in snake_case; the objects
    /// under `numericTextIn` get their number-like strings turned into numbers.
    static func encode(jsonData data: Data, numericTextIn: Set<String> = []) throws -> String {
        var object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        if var d = object as? [String: Any] {
            for key in numericTextIn { if let v = d[key] { d[key] = numbersFromText(v) } }
            object = d
        }
        return try encode(snakeCased(sanitized(object, nonFiniteStrings: true)))
    }

    /// Keys of every object renamed camelCase → snake_case (the rule lives in TVStorage, which
    /// the library's own JSON files use too).
    static func snakeCased(_ obj: Any) -> Any { SnakeCaseKeys.rekeyed(obj) }

    static func snakeCase(_ key: String) -> String { SnakeCaseKeys.key(key) }

    /// `deme`'s report keeps its configuration as text (for report.md); on stdout its numeric
    /// entries become numbers.
    static func numbersFromText(_ obj: Any) -> Any {
        guard let d = obj as? [String: Any] else { return obj }
        return d.mapValues { v -> Any in
            if let s = v as? String, let x = Double(s), x.isFinite { return x }
            return v
        }
    }

    /// Non-finite numbers become null; with `nonFiniteStrings`, so do the "nan"/"inf" strings
    /// JSONEncoder writes for them in encoded Codable values.
    private static func sanitized(_ obj: Any, nonFiniteStrings: Bool = false) -> Any {
        if let d = obj as? [String: Any] { return d.mapValues { sanitized($0, nonFiniteStrings: nonFiniteStrings) } }
        if let a = obj as? [Any] { return a.map { sanitized($0, nonFiniteStrings: nonFiniteStrings) } }
        if let x = obj as? Double, !x.isFinite { return NSNull() }
        if let x = obj as? Float, !x.isFinite { return NSNull() }
        if nonFiniteStrings, let s = obj as? String, ["nan", "inf", "-inf"].contains(s) { return NSNull() }
        return obj
    }
}

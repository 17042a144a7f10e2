import Foundation

/// The one key style of tvtool's JSON (every `--json` output and the JSON files the library
/// writes, e.g. DeMe's report.json): snake_case.
public enum SnakeCaseKeys {
    /// Keys of every object renamed camelCase → snake_case (`heldOutMSE` → `held_out_mse`).
    public static func rekeyed(_ obj: Any) -> Any {
        if let d = obj as? [String: Any] {
            return Dictionary(d.map { (key($0.key), rekeyed($0.value)) }, uniquingKeysWith: { a, _ in a })
        }
        if let a = obj as? [Any] { return a.map(rekeyed) }
        return obj
    }

    /// camelCase → snake_case, accents dropped; any other run of characters outside [a-z0-9] (spaces, slashes in
    /// human-readable labels) → one "_".
    public static func key(_ key: String) -> String {
        // ASCII keys: "fréchet" → "frechet".
        let chars = Array(key.folding(options: .diacriticInsensitive, locale: nil)).map { $0.isASCII ? $0 : " " }
        var out = ""
        for (i, c) in chars.enumerated() {
            guard c.isLetter || c.isNumber else {
                if !out.isEmpty && !out.hasSuffix("_") { out += "_" }
                continue
            }
            if c.isUppercase && i > 0 {
                let prev = chars[i - 1], next = i + 1 < chars.count ? chars[i + 1] : nil
                // A word starts at lower→Upper, digit→Upper, or at the last capital of an acronym
                // followed by lowercase (MSEValue → mse_value).
                if prev.isLowercase || prev.isNumber || (prev.isUppercase && next?.isLowercase == true) { out += "_" }
            }
            out += c.lowercased()
        }
        while out.hasSuffix("_") { out.removeLast() }
        return out
    }

}

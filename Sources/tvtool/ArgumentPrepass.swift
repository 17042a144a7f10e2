import ArgumentParser
import Foundation

/// What tvtool does to the command line before ArgumentParser sees it, for every command alike:
///
/// - Negative numbers as option values. ArgumentParser reads `--scale -1` as the option `--scale`
///   without a value followed by an unknown option `-1` ("Missing value"). A token that looks like
///   a negative number (`-1`, `-0.5`, `-1,0.5`, `-0.2:1.2:29`, `-1e-3`, `-inf`) right after a long
///   option is joined to it (`--scale=-1`), so every option takes negative values with or without
///   `=`. tvtool has no option named by a digit, so nothing that worked before changes meaning.
/// - Non-finite numbers. An option value (or a `,`, `:` or `=`-separated part of one) that parses
///   as a number but is NaN or infinite (`nan`, `inf`, `1e999`) is a usage error naming the
///   option, before any file is read (NaN weights used to surface as an internal JSON error).
/// - Old option spellings. Each concept has one name in every command (`--threads`, `--jobs`,
///   `--dtype`, `--t-range`, `--sampling-steps`, `--eval-split`, `--ema-decay`); the names used
///   before are rewritten to the current ones, so existing scripts keep working while `--help`
///   shows only the current names.
enum ArgumentPrepass {
    /// Old spelling → current name, per command (the first argument).
    static let renamed: [String: [String: String]] = [
        "merge": ["--out-dtype": "--dtype"],
        "apply": ["--out-dtype": "--dtype"],
        "interp": ["--out-dtype": "--dtype"],
        "diff": ["--out-dtype": "--dtype"],
        "sample": ["--ddim-steps": "--sampling-steps"],
        "eval": ["--ddim-steps": "--sampling-steps", "--held-out": "--eval-split"],
        "train": ["--ema-max": "--ema-decay"],
        "finetune": ["--range": "--t-range"],
        "deme": ["--workers": "--jobs"],
    ]

    static func normalize(_ arguments: [String]) throws -> [String] {
        var out: [String] = []
        let aliases = arguments.first.flatMap { renamed[$0] } ?? [:]
        var i = 0
        while i < arguments.count {
            var token = arguments[i]
            if token == "--" { out += arguments[i...]; break }
            if token.hasPrefix("--") {
                let name = token.split(separator: "=", maxSplits: 1).first.map(String.init) ?? token
                if let current = aliases[name] { token = current + token.dropFirst(name.count) }
            }
            if isLongOption(token), i + 1 < arguments.count, looksNegative(arguments[i + 1]) {
                let value = arguments[i + 1]
                try checkFinite(option: token, value: value)
                out.append(token + "=" + value)
                i += 2
                continue
            }
            if token.hasPrefix("--"), let eq = token.firstIndex(of: "=") {
                try checkFinite(option: String(token[..<eq]), value: String(token[token.index(after: eq)...]))
            } else if isLongOption(token), i + 1 < arguments.count, !arguments[i + 1].hasPrefix("-") {
                try checkFinite(option: token, value: arguments[i + 1])
            }
            out.append(token)
            i += 1
        }
        return out
    }

    static func isLongOption(_ s: String) -> Bool {
        s.count > 2 && s.hasPrefix("--") && !s.contains("=")
    }

    /// `-` followed by a digit, `.digit`, or inf/nan (any case).
    static func looksNegative(_ s: String) -> Bool {
        guard s.hasPrefix("-"), s.count > 1 else { return false }
        let rest = s.dropFirst()
        if let c = rest.first, c.isASCII, c.isNumber { return true }
        if rest.hasPrefix("."), let c = rest.dropFirst().first, c.isASCII, c.isNumber { return true }
        let lower = rest.lowercased()
        return lower.hasPrefix("inf") || lower.hasPrefix("nan")
    }

    static func checkFinite(option: String, value: String) throws {
        for part in value.split(whereSeparator: { $0 == "," || $0 == ":" || $0 == "=" }) {
            let text = part.trimmingCharacters(in: .whitespaces)
            if let x = Double(text), !x.isFinite {
                throw ValidationError("\(option): '\(text)' is not a finite number")
            }
        }
    }
}

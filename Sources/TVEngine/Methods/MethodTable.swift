/// Text and JSON views of the registry, generated from each method's typed parameter definitions:
/// `tvtool merge --list-methods` and the method section of `tvtool merge --help`.
extension MergeMethods {
    /// One block per method: name and summary, then one row per parameter
    /// (name, kind, default, valid range, doc).
    public static func table() -> String {
        var lines: [String] = []
        for m in all {
            lines.append(m.name + "  " + m.summary)
            if m.parameters.isEmpty { lines.append("    (no parameters)") }
            for p in m.parameters {
                lines.append("    " + pad(p.name, 10) + pad(p.kind.label, 20) + pad("default " + p.defaultText, 20)
                             + pad(p.range == .any || p.kind == .flag ? "" : "in " + p.range.description, 12) + p.doc)
            }
        }
        return lines.map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }.joined(separator: "\n")
    }

    /// The compact form for `--help`: method, then `param (default[, range])` list, wrapped at
    /// `width` columns with continuation lines under the list.
    public static func helpSummary(width: Int = 76) -> String {
        var lines: [String] = []
        for m in all {
            let items = m.parameters.map { p in
                "\(p.name) (\(p.defaultText)\(p.range == .any || p.kind == .flag ? "" : ", " + p.range.description))"
            }
            var line = pad(m.name, 17)
            if items.isEmpty { line += "no parameters" }
            for (i, item) in items.enumerated() {
                let text = item + (i < items.count - 1 ? "," : "")
                if line.count + text.count + 1 > width && !line.hasSuffix(" ") {
                    lines.append(line)
                    line = String(repeating: " ", count: 17)
                } else if !line.hasSuffix(" ") {
                    line += " "
                }
                line += text
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// The registry as JSON-compatible values (snake_case keys, numbers as numbers).
    public static func jsonValue() -> [[String: Any]] {
        all.map { m in
            ["name": m.name, "summary": m.summary, "parameters": m.parameters.map { p -> [String: Any] in
                var o: [String: Any] = ["name": p.name, "kind": p.kind.label, "doc": p.doc, "range": p.range.description]
                if let v = p.defaultValue { o["default"] = v } else if let c = p.defaultChoice { o["default"] = c }
                if case .choice(let words) = p.kind { o["choices"] = words }
                if let l = p.range.lower { o["min"] = l; o["min_inclusive"] = p.range.lowerInclusive }
                if let u = p.range.upper { o["max"] = u; o["max_inclusive"] = p.range.upperInclusive }
                return o
            }]
        }
    }

    private static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count)
    }
}

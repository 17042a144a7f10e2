/// The human-readable rendering of a `CheckpointSummary`: an aligned table of tensors, totals by
/// dtype, metadata and notes.
extension CheckpointSummary {
    public func renderText() -> String {
        var lines: [String] = ["\(Console.oneLine(path))  [\(format)]", ""]
        let header = ["name", "dtype", "shape", "params", "bytes"]
        let rows = tensors.map { [$0.name, $0.dtype, Shape.describe($0.shape), Self.grouped($0.parameters), ByteFormat.human($0.bytes)] }
        lines += Self.table(header: header, rows: rows, rightAligned: [3, 4])
        lines.append("")
        let dtypeRows = totalsByDType.keys.sorted().map { d -> [String] in
            let t = totalsByDType[d]!
            return [d, String(t.tensors), Self.grouped(t.parameters), ByteFormat.human(t.bytes)]
        } + [["total", String(totals.tensors), Self.grouped(totals.parameters), ByteFormat.human(totals.bytes)]]
        lines += Self.table(header: ["dtype", "tensors", "params", "bytes"], rows: dtypeRows, rightAligned: [1, 2, 3])
        if !metadata.isEmpty {
            lines.append("")
            lines.append("metadata:")
            for k in metadata.keys.sorted() {
                let oneLine = Console.oneLine(metadata[k]!)
                lines.append("  \(Console.oneLine(k)): \(oneLine.count > 200 ? String(oneLine.prefix(200)) + "…" : oneLine)")
            }
        }
        if !notes.isEmpty {
            lines.append("")
            lines.append("notes:")
            lines += notes.map { "  - " + Console.oneLine($0) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// 1234567 -> "1,234,567".
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// Cells are shown on one line with control characters escaped (names come from files).
    static func table(header: [String], rows rawRows: [[String]], rightAligned: Set<Int>) -> [String] {
        let rows = rawRows.map { $0.map(Console.oneLine) }
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return rightAligned.contains(i) ? pad + c : c + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        return [line(header)] + rows.map(line)
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

import XCTest

/// Issue 13: a tensor name from a file (here with ESC, an OSC 52 clipboard write, BEL, a CSI and
/// a C1 CSI) reaches the terminal only escaped, on every human-readable path: tables, errors
/// from TVEngine and TVSweep, warnings, the merge explanation.
final class TerminalEscapeCommandTests: XCTestCase {
    /// JSON-escaped as it sits in a safetensors header.
    private static let evil = #"w\u001b]52;c;cHduZWQ=\u0007\u001b[2J\u009b31m"#
    /// How the name must appear once escaped.
    private static let shown = #"w\u{1b}]52;c;cHduZWQ=\u{7}\u{1b}[2J\u{9b}31m"#

    private func assertEscaped(_ r: SweepCLI.Result, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        for (stream, text) in [("stdout", r.stdout), ("stderr", r.stderr)] {
            XCTAssertFalse(text.unicodeScalars.contains { $0 == "\u{1b}" || $0 == "\u{7}" || $0 == "\u{9b}" },
                           "\(what): raw control characters on \(stream): \(text.debugDescription)", file: file, line: line)
        }
        XCTAssertTrue((r.stdout + r.stderr).contains(Self.shown), "\(what): name not shown escaped: \(r.stdout) \(r.stderr)",
                      file: file, line: line)
    }

    /// base/a/b where the evil tensor's shape differs in `b` (an error naming it).
    private func models(in dir: URL, mismatched: Bool) throws -> [String] {
        let names = ["base.safetensors", "a.safetensors", "b.safetensors"]
        for (k, name) in names.enumerated() {
            let shape = mismatched && k == 2 ? [3] : [2]
            try SweepCLI.writeSafetensors(dir.appendingPathComponent(name).path,
                                          [("a", [1, Float(k)], [2]), (Self.evil, [Float](repeating: 0.5, count: shape[0]), shape)])
        }
        return names
    }

    func testInspectDiffAndMergeExplainEscape() throws {
        let dir = TestPaths.scratchDirectory("esc-show")
        let inputs = try models(in: dir, mismatched: false)
        assertEscaped(try SweepCLI.run(["inspect", inputs[1]], in: dir), "inspect")
        assertEscaped(try SweepCLI.run(["diff", inputs[1], inputs[2], "--top", "0"], in: dir), "diff")
        let r = try SweepCLI.run(["merge"] + inputs + ["--weights", "0.5,0.5", "--explain", "-o", "m.safetensors"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        assertEscaped(r, "merge --explain")
    }

    func testEngineAndSweepErrorsEscape() throws {
        let dir = TestPaths.scratchDirectory("esc-errors")
        let inputs = try models(in: dir, mismatched: true)
        let runs: [(String, [String])] = [
            ("merge", ["merge"] + inputs + ["--weights", "0.5,0.5", "-o", "m.safetensors", "--quiet"]),
            ("search", ["search"] + inputs + ["--grid", "0,1", "--eval-cmd", "echo 1", "-o", "s", "--quiet"]),
            ("landscape", ["landscape"] + inputs + ["--grid", "0,1", "--eval-cmd", "echo 1", "-o", "l", "--quiet"]),
        ]
        for (what, args) in runs {
            let r = try SweepCLI.run(args, in: dir)
            XCTAssertEqual(r.status, 2, "\(what): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(what): \(r.stderr)")
            assertEscaped(r, what)
        }
    }

    /// A shard tensor missing from the index's weight_map is a convert warning naming it.
    func testConvertWarningEscapes() throws {
        let dir = TestPaths.scratchDirectory("esc-convert")
        try SweepCLI.writeSafetensors(dir.appendingPathComponent("m-00001-of-00001.safetensors").path,
                                      [("a", [1, 2], [2]), (Self.evil, [1, 2], [2])])
        let index = #"{"metadata": {}, "weight_map": {"a": "m-00001-of-00001.safetensors"}}"#
        try Data(index.utf8).write(to: dir.appendingPathComponent("m.safetensors.index.json"))
        let r = try SweepCLI.run(["convert", "m.safetensors.index.json", "o.safetensors", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning:"), r.stderr)
        assertEscaped(r, "convert warning")
    }

    /// An evaluator whose last stdout line carries control characters (ESC, BEL, tab, the C1 CSI):
    /// the failed point's error reaches results.csv escaped as on the terminal, one row per
    /// point, quoted where it holds a comma or quote (RFC 4180).
    func testSearchResultsCSVEscapesEvaluatorErrors() throws {
        let dir = TestPaths.scratchDirectory("esc-csv")
        let inputs = try models(in: dir, mismatched: false)
        try Data("printf 'bad\\033]0;t\\007\\tx, \"q\" \\302\\233x\\n'\n".utf8).write(to: dir.appendingPathComponent("eval.sh"))
        let r = try SweepCLI.run(["search"] + inputs + ["--grid", "0,1", "--eval-cmd", "sh eval.sh", "--max-failures", "9", "-o", "s", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 2, r.stderr)  // every point failed
        let csv = try String(contentsOf: dir.appendingPathComponent("s/results.csv"), encoding: .utf8)
        XCTAssertFalse(csv.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7f...0x9f).contains($0.value) }, "\(r.stderr) \(csv.debugDescription)")
        let rows = csv.split(separator: "\n")
        XCTAssertEqual(rows.count, 4, csv)
        XCTAssertEqual(rows[1], #""0,0",0,0,0,0,failed,,,"the last stdout line is not a number or JSON object: bad\u{1b}]0;t\u{7}\u{9}x, ""q"" \u{9b}x""#, csv)
    }
}

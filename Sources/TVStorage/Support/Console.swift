#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes to the process's standard error, and tells whether it is a terminal (progress lines are
/// drawn only on a terminal so logs and pipes stay clean).
public enum Console {
    /// Writes one message (control characters escaped, line breaks kept) to standard error.
    public static func error(_ line: String) {
        var s = printable(line)
        if !s.hasSuffix("\n") { s += "\n" }
        FileHandle.standardError.write(Data(s.utf8))
    }

    /// Writes without a newline (for `\r` progress lines). tvtool's own text only: unescaped.
    public static func errorRaw(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    public static var stderrIsTerminal: Bool { isatty(2) == 1 }

    /// `message` with control characters shown escaped (`\u{a}`), so an error that quotes a name
    /// from a file (a tensor, a zip member, an HDF5 path) stays one line whatever the file holds.
    public static func oneLine(_ message: String) -> String { escaped(message, keepingLineBreaks: false) }

    /// Human-readable output (tables, metadata, names) with every control character escaped
    /// except line breaks and tabs: names and metadata from a file cannot clear the screen,
    /// retitle the window or write the clipboard (OSC 52). The one helper all text output uses.
    public static func printable(_ text: String) -> String { escaped(text, keepingLineBreaks: true) }

    /// C0 and C1 controls, DEL, and the Unicode bidirectional overrides/isolates (which reorder
    /// what a terminal shows) are escaped.
    static func isUnsafe(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        return v < 0x20 || (0x7f...0x9f).contains(v) || (0x202a...0x202e).contains(v) || (0x2066...0x2069).contains(v)
    }

    private static func escaped(_ text: String, keepingLineBreaks: Bool) -> String {
        guard text.unicodeScalars.contains(where: isUnsafe) else { return text }
        var out = String.UnicodeScalarView()
        for u in text.unicodeScalars {
            if isUnsafe(u) && !(keepingLineBreaks && (u == "\n" || u == "\t")) {
                out.append(contentsOf: ("\\u{" + String(u.value, radix: 16) + "}").unicodeScalars)
            } else {
                out.append(u)
            }
        }
        return String(out)
    }
}

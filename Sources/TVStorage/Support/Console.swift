#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes to the process's standard error, and tells whether it is a terminal (progress lines are
/// drawn only on a terminal so logs and pipes stay clean).
public enum Console {
    public static func error(_ line: String) {
        var s = line
        if !s.hasSuffix("\n") { s += "\n" }
        FileHandle.standardError.write(Data(s.utf8))
    }

    /// Writes without a newline (for `\r` progress lines).
    public static func errorRaw(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    public static var stderrIsTerminal: Bool { isatty(2) == 1 }

    /// `message` with control characters shown escaped (`\u{a}`), so an error that quotes a name
    /// from a file (a tensor, a zip member, an HDF5 path) stays one line whatever the file holds.
    public static func oneLine(_ message: String) -> String {
        var out = ""
        for u in message.unicodeScalars {
            if u.value < 0x20 || u.value == 0x7f { out += "\\u{" + String(u.value, radix: 16) + "}" } else { out.unicodeScalars.append(u) }
        }
        return out
    }
}

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
}

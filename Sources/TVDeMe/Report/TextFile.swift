import Foundation

/// Atomic text output (temporary file + rename), so an error never leaves a partial file.
public enum TextFile {
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    public static func write(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) }
        catch { throw DeMeError.invalidArgument("\(url.path): cannot write: \(error.localizedDescription)") }
    }
}

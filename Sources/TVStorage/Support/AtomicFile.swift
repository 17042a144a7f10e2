import Foundation

/// Writes whole small output files (CSV, JSON, PNG, .npy) atomically through `AtomicOutputFile`:
/// temporary file in the same folder (removed on error or interrupt), fsync, rename, folder fsync.
/// A crash leaves either the old file or the new one, never a partial file.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let out = try AtomicOutputFile(path: path, size: data.count)
        try data.withUnsafeBytes { try out.write($0, at: 0) }
        try out.commit()
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}

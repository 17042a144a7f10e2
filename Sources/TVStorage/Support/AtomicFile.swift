import Foundation

/// Writes whole small output files (CSV, JSON, PNG, .npy) atomically: temporary file in the same
/// folder, fsync, rename. A crash leaves either the old file or the new one, never a partial file;
/// an interrupt removes the temporary file (`TerminationSignals`). Large streamed outputs use
/// `AtomicOutputFile`.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        TerminationSignals.addTemporaryFile(tmp.path)
        defer { TerminationSignals.removeTemporaryFile(tmp.path) }
        do {
            try data.write(to: tmp)
            let h = try FileHandle(forWritingTo: tmp)
            try h.synchronize()
            try h.close()
            // rename(2) replaces an existing file atomically.
            guard rename(tmp.path, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw StorageError.cannotWrite(path: path, reason: "\(error.localizedDescription)")
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}

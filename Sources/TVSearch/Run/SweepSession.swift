import Foundation
import TVStorage

/// A sweep run against an output folder: picks the records file for the shard, resumes from it,
/// runs, and reports. The folder layout is the same for landscapes and searches:
/// `records.jsonl` (unsharded) or `records-shard-I-of-N.jsonl`, next to the outputs.
public enum SweepSession {
    public static func recordsPath(directory: String, shard: ShardSpec) -> String {
        let name = shard.isWhole ? "records.jsonl" : "records-shard-\(shard.index)-of-\(shard.count).jsonl"
        return URL(fileURLWithPath: directory).appendingPathComponent(name).path
    }

    /// Creates `directory` if needed, opens (resuming) the shard's records and evaluates what is
    /// not done yet.
    public static func run(manifest: SweepManifest, evaluator: any PointEvaluator, directory: String,
                           options: SweepRunOptions) throws -> SweepOutcome {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StorageError.cannotWrite(path: directory, reason: "cannot create the output folder")
        }
        let store = try RecordStore(path: recordsPath(directory: directory, shard: options.shard), manifest: manifest)
        return try SweepRunner(manifest: manifest, evaluator: evaluator, store: store, options: options).run()
    }

    /// Loads and merges records files (or folders holding `records*.jsonl`), checking that they all
    /// belong to the same sweep.
    public static func collect(_ paths: [String]) throws -> (manifest: SweepManifest, records: RecordSet, files: [String], tornTails: Int) {
        var files: [String] = []
        for p in paths {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: p)) ?? []
                files += names.filter { $0.hasPrefix("records") && $0.hasSuffix(".jsonl") }.sorted()
                    .map { URL(fileURLWithPath: p).appendingPathComponent($0).path }
            } else {
                guard FileManager.default.fileExists(atPath: p) else { throw RecordError.io(p, "no such file or directory") }
                files.append(p)
            }
        }
        guard !files.isEmpty else { throw RecordError.io(paths.joined(separator: " "), "no records files found") }
        var manifest: SweepManifest? = nil
        var first = ""
        var all = RecordSet()
        var torn = 0
        for f in files {
            let loaded = try RecordStore.load(path: f)
            guard let m = loaded.manifest else { throw RecordError.noHeader(f) }
            if let manifest {
                if let diff = manifest.difference(from: m) { throw RecordError.mismatchedShards(first, f + " (" + diff + ")") }
            } else {
                manifest = m
                first = f
            }
            if loaded.tornTail { torn += 1 }
            for r in loaded.records { all.add(r) }
        }
        return (manifest!, all, files, torn)
    }

    /// Writes a complete records file holding `records` (atomically), so a collected folder can be
    /// resumed or re-collected like a single run's.
    public static func writeMerged(manifest: SweepManifest, records: RecordSet, to path: String) throws {
        var data = try RecordLines.header(manifest)
        for r in records.records { data.append(try RecordLines.point(r)) }
        try AtomicFile.write(data, to: path)
    }
}

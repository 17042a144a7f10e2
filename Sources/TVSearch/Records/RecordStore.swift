#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TVStorage

/// The append-only JSONL records file of one sweep run (or one shard of it).
///
/// Line 1 is the header `{"type":"sweep","fingerprint":…,"manifest":{…}}`; a later run in the
/// same folder that searches differently (finer grid, other strategy) appends
/// `{"type":"run","manifest":{…}}`; every other line is one `PointRecord` with `"type":"point"`. Crash safety, the invariant everything relies on:
/// - each line goes out in ONE write(2) on an O_APPEND descriptor, followed by fsync, so a
///   completed append is durable and a kill -9 can at worst leave one incomplete last line;
/// - an incomplete last line (no trailing newline, or unparsable) is ignored when loading and cut
///   off (ftruncate to the last newline) before a run appends again, so it never glues onto the
///   next record;
/// - an exclusive flock stops two runs from appending to the same file at once.
public final class RecordStore: @unchecked Sendable {
    public let path: String
    public let manifest: SweepManifest
    /// Records already in the file when it was opened.
    public let existing: [PointRecord]
    private let fd: Int32
    private let lock = NSLock()

    /// Opens (creating if needed) the records file for a run of `manifest`. An existing file must
    /// hold records of the same values (same fingerprint); the error names the setting that differs.
    public init(path: String, manifest: SweepManifest) throws {
        self.path = path
        self.manifest = manifest
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RecordError.io(path, String(cString: strerror(errno))) }
        self.fd = fd
        do {
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                throw RecordError.busy(path)
            }
            let loaded = try RecordStore.load(path: path)
            if loaded.validBytes != loaded.fileBytes {
                // Cut the torn tail left by a killed run before appending anything.
                guard ftruncate(fd, off_t(loaded.validBytes)) == 0 else { throw RecordError.io(path, String(cString: strerror(errno))) }
            }
            if let header = loaded.manifest {
                if let diff = manifest.difference(from: header) {
                    throw RecordError.differentSettings(path, diff)
                }
                existing = loaded.records
                if !manifest.sameSearch(as: header) {
                    try RecordStore.writeLine(fd: fd, path: path, RecordLines.run(manifest))
                }
            } else {
                existing = []
                try RecordStore.writeLine(fd: fd, path: path, RecordLines.header(manifest))
            }
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// Appends one record durably (one write(2) + fsync). Thread-safe.
    public func append(_ record: PointRecord) throws {
        let line = try RecordLines.point(record)
        lock.lock(); defer { lock.unlock() }
        try RecordStore.writeLine(fd: fd, path: path, line)
    }

    private static func writeLine(fd: Int32, path: String, _ line: Data) throws {
        try line.withUnsafeBytes { buf in
            let n = write(fd, buf.baseAddress, buf.count)
            guard n == buf.count else {
                throw RecordError.io(path, n < 0 ? String(cString: strerror(errno)) : "short write (\(n) of \(buf.count) bytes)")
            }
        }
        guard fsync(fd) == 0 else { throw RecordError.io(path, String(cString: strerror(errno))) }
    }

    /// The parsed content of a records file.
    public struct Loaded: Sendable {
        /// The latest manifest (the header, or the last run line after it).
        public var manifest: SweepManifest?
        public var records: [PointRecord]
        /// Bytes up to and including the last complete, parsable line.
        public var validBytes: Int
        public var fileBytes: Int
        /// True when an incomplete last line was ignored.
        public var tornTail: Bool { validBytes != fileBytes }
    }

    /// Reads a records file. A missing file is empty; a torn last line is skipped; any other bad
    /// line is an error naming the file and line.
    public static func load(path: String) throws -> Loaded {
        guard FileManager.default.fileExists(atPath: path) else {
            return Loaded(manifest: nil, records: [], validBytes: 0, fileBytes: 0)
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw RecordError.io(path, "cannot read") }
        var result = Loaded(manifest: nil, records: [], validBytes: 0, fileBytes: data.count)
        var start = data.startIndex
        var lineNumber = 0
        while start < data.endIndex {
            lineNumber += 1
            guard let nl = data[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                break  // incomplete last line: a run was killed mid-append
            }
            let line = data[start..<nl]
            let isLast = nl + 1 == data.endIndex
            do {
                try RecordLines.parse(line, into: &result, path: path, lineNumber: lineNumber)
            } catch let e as RecordError where isLast {
                // A newline-terminated but unparsable last line can only be a torn append.
                _ = e
                break
            }
            start = nl + 1
            result.validBytes = start - data.startIndex
        }
        return result
    }
}

/// Encoding and decoding of the two line kinds.
enum RecordLines {
    private struct Header: Codable {
        var type = "sweep"
        var fingerprint: String
        var manifest: SweepManifest
    }
    private struct Kind: Decodable { var type: String }

    static func header(_ m: SweepManifest) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var d = try enc.encode(Header(fingerprint: m.fingerprint, manifest: m))
        d.append(UInt8(ascii: "\n"))
        return d
    }

    private struct Run: Codable {
        var type = "run"
        var manifest: SweepManifest
    }

    static func run(_ m: SweepManifest) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var d = try enc.encode(Run(manifest: m))
        d.append(UInt8(ascii: "\n"))
        return d
    }

    static func point(_ r: PointRecord) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let body = try enc.encode(r)
        var d = Data("{\"type\":\"point\",".utf8)
        d.append(body.dropFirst())  // body starts with "{"
        d.append(UInt8(ascii: "\n"))
        return d
    }

    static func parse(_ line: Data, into result: inout RecordStore.Loaded, path: String, lineNumber: Int) throws {
        let dec = JSONDecoder()
        guard let kind = try? dec.decode(Kind.self, from: line) else {
            throw RecordError.corrupt(path, lineNumber, "not a JSON record")
        }
        switch kind.type {
        case "sweep":
            guard lineNumber == 1, let h = try? dec.decode(Header.self, from: line) else {
                throw RecordError.corrupt(path, lineNumber, "misplaced or malformed header")
            }
            result.manifest = h.manifest
        case "run":
            guard let first = result.manifest, let r = try? dec.decode(Run.self, from: line),
                  first.fingerprint == r.manifest.fingerprint else {
                throw RecordError.corrupt(path, lineNumber, "misplaced or malformed run line")
            }
            result.manifest = r.manifest
        case "point":
            guard result.manifest != nil else { throw RecordError.corrupt(path, lineNumber, "point before the header") }
            guard let r = try? dec.decode(PointRecord.self, from: line),
                  r.status != .ok || (r.value?.isFinite ?? false) else {
                throw RecordError.corrupt(path, lineNumber, "malformed point record")
            }
            result.records.append(r)
        default:
            throw RecordError.corrupt(path, lineNumber, "unknown record type '\(kind.type)'")
        }
    }
}

/// Errors reading or writing records.
public enum RecordError: BadInputError, Equatable {
    case io(String, String)
    case busy(String)
    case differentSettings(String, String)
    case corrupt(String, Int, String)
    case noHeader(String)
    case mismatchedShards(String, String)

    public var description: String {
        switch self {
        case let .io(p, why): return "\(p): \(why)"
        case let .busy(p): return "\(p): another tvtool run is appending to this records file"
        case let .corrupt(p, line, why): return "\(p): line \(line): \(why)"
        case let .noHeader(p): return "\(p): no sweep header (empty or not a tvtool records file)"
        case let .differentSettings(p, diff): return "\(p): records of different values: \(diff); use another output folder or remove the file"
        case let .mismatchedShards(a, b): return "\(b): belongs to a different sweep than \(a)"
        }
    }
}

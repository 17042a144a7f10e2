import Foundation

/// How one tensor of a renamed view comes from the underlying checkpoint.
enum RemappedSource: Sendable {
    /// The tensor `name`, possibly under another shape with the same element count (a 1×1 conv
    /// seen as a linear weight): a zero-copy view.
    case whole(String)
    /// Rows `part`·n/`of` ..< (`part`+1)·n/`of` of `name` along its first axis (contiguous bytes):
    /// a zero-copy view.
    case rows(String, part: Int, of: Int)
    /// The tensors concatenated along their first axis (a new buffer of one tensor's size).
    case concatRows([String])
}

struct RemappedEntry: Sendable {
    let info: TensorInfo
    let source: RemappedSource
}

/// A checkpoint seen under another naming (an SD single file as a diffusers pipeline, or the
/// reverse): the names, shapes and slices come from `SDNaming`, the bytes from the wrapped reader.
public final class RemappedReader: CheckpointReader {
    public var path: String { inner.path }
    public let tensors: [TensorInfo]
    public var metadata: [String: String] { inner.metadata }
    public let notes: [String]
    /// The reader whose bytes this view presents.
    public let inner: any CheckpointReader
    private let sources: [String: RemappedSource]

    init(_ inner: any CheckpointReader, entries: [RemappedEntry], notes: [String]) throws {
        self.inner = inner
        var seen: [String: RemappedSource] = [:]
        for e in entries {
            guard seen[e.info.name] == nil else { throw StorageError.invalidTensor(tensor: e.info.name, reason: "two tensors of \(inner.path) map to this name") }
            seen[e.info.name] = e.source
        }
        self.tensors = entries.map(\.info)
        self.sources = seen
        self.notes = inner.notes + notes
    }

    /// The diffusers pipeline naming of an SD single-file checkpoint.
    public static func diffusersView(of reader: any CheckpointReader) throws -> RemappedReader {
        let (entries, notes) = try SDNaming.toDiffusers(reader.tensors)
        return try RemappedReader(reader, entries: entries, notes: notes)
    }

    /// The SD single-file naming of a diffusers pipeline (component-prefixed names).
    public static func singleFileView(of reader: any CheckpointReader, version: SDNaming.Version? = nil) throws -> RemappedReader {
        let (entries, notes) = try SDNaming.toSingleFile(reader.tensors, version: version)
        return try RemappedReader(reader, entries: entries, notes: notes)
    }

    /// Only the tensors under `prefix` (e.g. "unet."), with the prefix removed: a diffusers model
    /// folder's naming.
    public static func component(_ prefix: String, of reader: any CheckpointReader) throws -> RemappedReader {
        let entries = reader.tensors.filter { $0.name.hasPrefix(prefix) }.map {
            RemappedEntry(info: TensorInfo(name: String($0.name.dropFirst(prefix.count)), dtype: $0.dtype, shape: $0.shape), source: .whole($0.name))
        }
        return try RemappedReader(reader, entries: entries, notes: [])
    }

    /// Only the tensors whose names start with one of `prefixes`, unchanged.
    public static func only(prefixes: [String], of reader: any CheckpointReader) throws -> RemappedReader {
        let entries = reader.tensors.filter { t in prefixes.contains { t.name.hasPrefix($0) } }.map { RemappedEntry(info: $0, source: .whole($0.name)) }
        return try RemappedReader(reader, entries: entries, notes: [])
    }

    /// All tensors but `names`, unchanged.
    public static func excluding(_ names: Set<String>, of reader: any CheckpointReader, note: String? = nil) throws -> RemappedReader {
        let entries = reader.tensors.filter { !names.contains($0.name) }.map { RemappedEntry(info: $0, source: .whole($0.name)) }
        return try RemappedReader(reader, entries: entries, notes: note.map { [$0] } ?? [])
    }

    public func tensor(named name: String) throws -> Tensor {
        guard let source = sources[name], let info = info(named: name) else { throw StorageError.tensorNotFound(path: path, tensor: name) }
        switch source {
        case let .whole(n):
            let t = try inner.tensor(named: n)
            return try Tensor(dtype: t.dtype, shape: info.shape, storage: t.storage)
        case let .rows(n, part, of):
            let t = try inner.tensor(named: n)
            let size = t.byteCount / of
            let view = ByteStorage(viewing: t.storage.base + part * size, count: size, owner: t.storage)
            return try Tensor(dtype: t.dtype, shape: info.shape, storage: view)
        case let .concatRows(names):
            let parts = try names.map { try inner.tensor(named: $0) }
            let storage = ByteStorage.allocate(count: info.byteCount) { dst in
                var offset = 0
                for p in parts {
                    (dst.baseAddress! + offset).copyMemory(from: p.storage.base, byteCount: p.byteCount)
                    offset += p.byteCount
                }
            }
            return try Tensor(dtype: info.dtype, shape: info.shape, storage: storage)
        }
    }
}

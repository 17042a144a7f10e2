import Foundation

/// Plain data pickles of numpy arrays, such as CIFAR-10's python batches (`data_batch_1`: a dict
/// with a uint8 `data` array, `labels`, `filenames`, `batch_label`), read by the same restricted
/// unpickler as torch checkpoints with numpy array reconstruction allowed as inert data: the only
/// globals are `numpy.core.multiarray._reconstruct`, `numpy.ndarray` and `numpy.dtype` (plus the
/// `_codecs.encode` Python 3 uses for bytes); nothing is imported or executed.
public enum NumpyPickle {
    /// A top-level dict entry.
    public enum Item: Sendable, Equatable {
        case array(NumpyArrayData)
        case integers([Int])
        case text(String)
        /// Anything else, described by its kind (e.g. "list").
        case other(String)
    }

    /// Reads a pickle whose top level is a dict; keys may be str or (Python 2) bytes.
    public static func readDict(_ path: String) throws -> [String: Item] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw StorageError.cannotOpen(path: path, reason: error.localizedDescription)
        }
        let (root, arena) = try data.withUnsafeBytes { raw in try unpickle(raw, path: path) }
        guard case let .dict(d) = root else {
            throw PyTorchError.unexpectedStructure(path: path, what: "the pickle holds a \(root.kind), not a dict")
        }
        var out: [String: Item] = [:]
        for (key, value) in arena.dicts[d] {
            let name: String
            switch key {
            case let .string(s): name = s
            case let .bytes(b): name = String(decoding: b, as: UTF8.self)
            default: throw PyTorchError.unexpectedStructure(path: path, what: "a dict key is a \(key.kind)")
            }
            out[name] = item(value, arena: arena)
        }
        return out
    }

    static func unpickle(_ raw: UnsafeRawBufferPointer, path: String) throws -> (PickleValue, PickleArena) {
        var u = Unpickler(raw, path: path)
        u.allowsNumpyArrays = true
        let root = try u.run()
        return (root, u.arena)
    }

    static func item(_ v: PickleValue, arena: PickleArena) -> Item {
        switch v {
        case let .ndarray(i): return arena.arrays[i].map(Item.array) ?? .other("numpy array without data")
        case let .string(s): return .text(s)
        case let .bytes(b): return .text(String(decoding: b, as: UTF8.self))
        case let .list(i):
            var ints: [Int] = []
            for x in arena.lists[i] { guard case let .int(n) = x else { return .other("list") }; ints.append(n) }
            return .integers(ints)
        default: return .other(v.kind)
        }
    }
}

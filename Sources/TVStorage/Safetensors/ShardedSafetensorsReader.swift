import Foundation

/// Reads a sharded checkpoint through its `<base>.safetensors.index.json`
/// (`{"metadata": {"total_size": …}, "weight_map": {tensor: shard file}}`). Every shard is opened
/// (header only) and cross-checked against the map: each mapped shard exists, each mapped tensor
/// is in its shard, no tensor is in two shards. Tensors present in a shard but absent from the map
/// are left out and reported in `notes` (loaders that follow the map would not see them either).
public final class ShardedSafetensorsReader: CheckpointReader {
    public let path: String
    public let tensors: [TensorInfo]
    public let metadata: [String: String]
    public let notes: [String]
    /// The shard readers, in file-name order.
    public let shards: [SafetensorsReader]
    private let shardOf: [String: Int]

    public init(indexPath: String) throws {
        self.path = indexPath
        let weightMap = try Self.readWeightMap(indexPath)
        let dir = URL(fileURLWithPath: indexPath).deletingLastPathComponent()
        let shardNames = Set(weightMap.map(\.shard)).sorted()
        var shards: [SafetensorsReader] = []
        for name in shardNames {
            let shardPath = dir.appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: shardPath) else {
                throw SafetensorsError.shardMissing(path: indexPath, shard: name)
            }
            shards.append(try SafetensorsReader(path: shardPath))
        }
        // Where each tensor actually is, across all referenced shards.
        var foundIn: [String: [Int]] = [:]
        for (i, shard) in shards.enumerated() {
            for t in shard.tensors { foundIn[t.name, default: []].append(i) }
        }
        var shardOf: [String: Int] = [:]
        for (tensor, shardName) in weightMap {
            let i = shardNames.firstIndex(of: shardName)!
            let places = foundIn[tensor] ?? []
            guard places.contains(i) else {
                throw SafetensorsError.tensorMissingFromShard(path: indexPath, tensor: tensor, shard: shardName)
            }
            guard places.count == 1 else {
                throw SafetensorsError.tensorInTwoShards(path: indexPath, tensor: tensor, shards: places.map { shardNames[$0] })
            }
            shardOf[tensor] = i
        }
        let unmapped = shards.flatMap(\.tensors).map(\.name).filter { shardOf[$0] == nil }
        var notes: [String] = []
        if !unmapped.isEmpty {
            let shown = unmapped.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            notes.append("\(unmapped.count) tensor(s) in the shards are not in the index's weight_map and are ignored: \(shown)\(unmapped.count > 5 ? ", …" : "")")
        }
        self.shards = shards
        self.shardOf = shardOf
        self.notes = notes
        self.tensors = shards.flatMap { $0.tensors.filter { shardOf[$0.name] != nil } }
        // Writers put the same __metadata__ in every shard; the first shard's stands for the set.
        self.metadata = shards.first?.metadata ?? [:]
    }

    public func info(named name: String) -> TensorInfo? { shardOf[name].flatMap { shards[$0].info(named: name) } }

    public func tensor(named name: String) throws -> Tensor {
        guard let i = shardOf[name] else { throw StorageError.tensorNotFound(path: path, tensor: name) }
        return try shards[i].tensor(named: name)
    }

    /// Parses the index strictly: an object with a `weight_map` object of plain relative file names.
    static func readWeightMap(_ indexPath: String) throws -> [(tensor: String, shard: String)] {
        let file = try MappedFile(path: indexPath)
        func bad(_ reason: String) -> SafetensorsError { .invalidIndex(path: indexPath, reason: reason) }
        guard String(validating: file.bytes, as: UTF8.self) != nil else { throw bad("not UTF-8") }
        let root: HeaderJSON
        do {
            root = try HeaderJSONParser.parse(file.bytes)
        } catch {
            switch error { case let .syntax(reason, at): throw bad("not JSON at byte \(at): \(reason)") }
        }
        guard case let .object(members) = root else { throw bad("expected a JSON object") }
        let maps = members.filter { $0.key == "weight_map" }
        guard maps.count == 1, case let .object(entries) = maps[0].value else { throw bad("expected one \"weight_map\" object") }
        var seen = Set<String>()
        var out: [(tensor: String, shard: String)] = []
        for (tensor, value) in entries {
            guard case let .string(shard) = value else { throw bad("weight_map entry '\(tensor)' is \(value.brief), expected a file name") }
            guard seen.insert(tensor).inserted else { throw bad("tensor '\(tensor)' is listed twice in weight_map") }
            // Shards live next to the index: refuse paths that would reach elsewhere.
            guard !shard.isEmpty, !shard.hasPrefix("/"), !shard.split(separator: "/").contains("..") else {
                throw bad("weight_map entry '\(tensor)' points outside the index's folder: '\(shard)'")
            }
            out.append((tensor, shard))
        }
        return out
    }
}

import Foundation

/// Writes a checkpoint split into shards of at most `maxShardBytes` of tensor data each (a tensor
/// larger than that gets a shard of its own): `<base>-00001-of-0000N.safetensors` … plus
/// `<base>.safetensors.index.json`. `path` is either the index path or `<base>.safetensors`; in
/// the latter case a checkpoint that fits in one shard is written as that single file, no index
/// (as transformers/diffusers do). All or nothing: until `finish()` succeeds, only temporary files
/// exist, and a failure part-way through removes the shards already moved into place.
public final class ShardedSafetensorsWriter: RangedCheckpointWriter, @unchecked Sendable {
    public let path: String
    /// Final paths of the files this writer produces (shards, then the index if any).
    public let outputPaths: [String]
    private let shards: [SafetensorsWriter]
    private let shardOf: [String: Int]
    private let indexPath: String?
    private let indexJSON: [UInt8]

    public init(path: String, tensors: [TensorInfo], metadata: [String: String], maxShardBytes: Int,
                inputs: [String] = []) throws {
        self.path = path
        guard maxShardBytes > 0 else {
            throw SafetensorsError.invalidDeclaration(path: path, tensor: "", reason: "maximum shard size must be positive")
        }
        let lower = path.lowercased()
        let isIndex = lower.hasSuffix(".safetensors.index.json")
        let base = String(path.dropLast(isIndex ? ".safetensors.index.json".count : (lower.hasSuffix(".safetensors") ? ".safetensors".count : 0)))

        // Greedy split in file order (dtype alignment, then name).
        let order = try SafetensorsLayout(tensors: tensors, metadata: [:], path: path).entries
        var groups: [[TensorInfo]] = []
        var groupBytes = 0
        for e in order {
            let size = e.end - e.begin
            if groups.isEmpty || (groupBytes > 0 && groupBytes + size > maxShardBytes) {
                groups.append([])
                groupBytes = 0
            }
            groups[groups.count - 1].append(e.info)
            groupBytes += size
        }
        if groups.isEmpty { groups = [[]] }

        let single = groups.count == 1 && !isIndex
        let dir = URL(fileURLWithPath: base).deletingLastPathComponent().path
        let stem = URL(fileURLWithPath: base).lastPathComponent
        let shardNames = single ? [URL(fileURLWithPath: path).lastPathComponent]
            : groups.indices.map { String(format: "%@-%05d-of-%05d.safetensors", stem, $0 + 1, groups.count) }
        let shardPaths = shardNames.map { dir + "/" + $0 }
        self.indexPath = single ? nil : base + ".safetensors.index.json"
        self.outputPaths = shardPaths + (indexPath.map { [$0] } ?? [])
        for p in outputPaths { try Checkpoints.refuseOverwritingInputs(output: p, inputs: inputs) }

        var shardOf: [String: Int] = [:]
        var weightMap: [(String, String)] = []
        for (i, g) in groups.enumerated() {
            for t in g { shardOf[t.name] = i; weightMap.append((t.name, shardNames[i])) }
        }
        self.shardOf = shardOf
        self.shards = try zip(shardPaths, groups).map { try SafetensorsWriter(path: $0, tensors: $1, metadata: metadata) }
        self.indexJSON = Self.encodeIndex(weightMap: weightMap, totalSize: order.last?.end ?? 0)
    }

    public func write(_ tensor: Tensor, named name: String) throws {
        try shard(of: name).write(tensor, named: name)
    }

    public func write(_ bytes: UnsafeRawBufferPointer, ofTensor name: String, at offset: Int) throws {
        try shard(of: name).write(bytes, ofTensor: name, at: offset)
    }

    public func completeTensor(_ name: String) throws { try shard(of: name).completeTensor(name) }

    private func shard(of name: String) throws -> SafetensorsWriter {
        guard let i = shardOf[name] else { throw SafetensorsError.undeclaredTensor(path: path, tensor: name) }
        return shards[i]
    }

    public func finish() throws {
        var committed: [String] = []
        do {
            for s in shards {
                try s.finish()
                committed.append(s.path)
            }
            if let indexPath {
                let out = try AtomicOutputFile(path: indexPath, size: indexJSON.count)
                try indexJSON.withUnsafeBytes { try out.write($0, at: 0) }
                try out.commit()
            }
        } catch {
            for p in committed { unlink(p) }
            abort()
            throw error
        }
    }

    public func abort() { for s in shards { s.abort() } }

    static func encodeIndex(weightMap: [(String, String)], totalSize: Int) -> [UInt8] {
        var out = Array("{\n  \"metadata\": {\n    \"total_size\": \(totalSize)\n  },\n  \"weight_map\": {".utf8)
        let sorted = weightMap.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        for (i, (tensor, shard)) in sorted.enumerated() {
            out.append(contentsOf: Array((i == 0 ? "\n    " : ",\n    ").utf8))
            SafetensorsLayout.appendJSONString(tensor, to: &out)
            out.append(contentsOf: Array(": ".utf8))
            SafetensorsLayout.appendJSONString(shard, to: &out)
        }
        out.append(contentsOf: Array("\n  }\n}\n".utf8))
        return out
    }
}

/// What `tvtool inspect` reports about a checkpoint: one row per tensor, totals by dtype, metadata
/// and the reader's notes. Built from the reader's index only (no tensor data is touched), so it
/// costs the same for a 10 MB and a 10 GB file.
public struct CheckpointSummary: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var parameters: Int
        public var bytes: Int
    }

    public struct Total: Codable, Sendable, Equatable {
        public var tensors: Int
        public var parameters: Int
        public var bytes: Int
    }

    public var path: String
    public var format: String
    public var tensors: [Row]
    public var totals: Total
    public var totalsByDType: [String: Total]
    public var metadata: [String: String]
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case path, format, tensors, totals, metadata, notes
        case totalsByDType = "totals_by_dtype"
    }

    public init(reader: any CheckpointReader) {
        path = reader.path
        format = Self.formatName(reader)
        tensors = reader.tensors.map { Row(name: $0.name, dtype: $0.dtype.rawValue, shape: $0.shape, parameters: $0.elementCount, bytes: $0.byteCount) }
        var byDType: [String: Total] = [:]
        for r in tensors {
            var t = byDType[r.dtype] ?? Total(tensors: 0, parameters: 0, bytes: 0)
            t.tensors += 1
            t.parameters += r.parameters
            t.bytes += r.bytes
            byDType[r.dtype] = t
        }
        totalsByDType = byDType
        totals = Total(tensors: tensors.count, parameters: tensors.reduce(0) { $0 + $1.parameters }, bytes: tensors.reduce(0) { $0 + $1.bytes })
        metadata = reader.metadata
        notes = reader.notes
    }

    static func formatName(_ reader: any CheckpointReader) -> String {
        switch reader {
        case is SafetensorsReader: return "safetensors"
        case let r as ShardedSafetensorsReader: return "safetensors (\(r.shards.count) shards)"
        default:
            let name = String(describing: type(of: reader))
            return name.hasSuffix("Reader") ? String(name.dropLast("Reader".count)) : name
        }
    }
}

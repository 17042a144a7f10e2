/// Reads a single `.safetensors` file. Opening maps the file and parses only the header (the data
/// pages are not touched, so listing a multi-GB file is instant); `tensor(named:)` returns a
/// zero-copy view into the mapping. All offsets are validated on open, so views always lie inside
/// the mapped region.
public final class SafetensorsReader: CheckpointReader {
    public let path: String
    public let tensors: [TensorInfo]
    public let metadata: [String: String]
    public let header: SafetensorsHeader
    private let file: MappedFile
    private let index: [String: Int]

    public init(path: String) throws {
        self.path = path
        self.file = try MappedFile(path: path)
        self.header = try SafetensorsHeader.parse(file: file.bytes, path: path)
        self.tensors = header.entries.map(\.info)
        self.metadata = header.metadata
        var index: [String: Int] = [:]
        for (i, e) in header.entries.enumerated() { index[e.name] = i }
        self.index = index
    }

    public func info(named name: String) -> TensorInfo? { index[name].map { tensors[$0] } }

    /// Size of the file in bytes.
    public var fileSize: Int { file.count }

    public func tensor(named name: String) throws -> Tensor {
        guard let i = index[name] else { throw StorageError.tensorNotFound(path: path, tensor: name) }
        let e = header.entries[i]
        let storage = ByteStorage(mapping: file, offset: header.dataStart + e.begin, count: e.end - e.begin)
        return try Tensor(dtype: e.dtype, shape: e.shape, storage: storage)
    }
}

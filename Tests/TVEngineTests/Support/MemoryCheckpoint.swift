import TVStorage
@testable import TVEngine

/// An in-memory checkpoint for tests that need no file format.
final class MemoryReader: CheckpointReader, @unchecked Sendable {
    let path: String
    let tensors: [TensorInfo]
    let metadata: [String: String]
    private let data: [String: Tensor]

    init(_ path: String, _ entries: [(String, Tensor)], metadata: [String: String] = [:]) {
        self.path = path
        self.tensors = entries.map { $0.1.info(name: $0.0) }
        self.data = Dictionary(entries, uniquingKeysWith: { a, _ in a })
        self.metadata = metadata
    }

    func tensor(named name: String) throws -> Tensor {
        guard let t = data[name] else { throw StorageError.tensorNotFound(path: path, tensor: name) }
        return t
    }
}

/// Collects written tensors (copying their bytes, since the engine reuses its output buffer).
final class MemoryWriter: CheckpointWriter {
    let path: String
    let declared: [TensorInfo]
    let metadata: [String: String]
    var written: [String: Tensor] = [:]
    var order: [String] = []
    var finished = false
    var aborted = false

    init(path: String = "memory.safetensors", tensors: [TensorInfo], metadata: [String: String]) {
        self.path = path
        self.declared = tensors
        self.metadata = metadata
    }

    func write(_ tensor: Tensor, named name: String) throws {
        let copy = ByteStorage(copying: tensor.storage.buffer)
        written[name] = try Tensor(dtype: tensor.dtype, shape: tensor.shape, storage: copy)
        order.append(name)
    }

    func finish() throws { finished = true }
    func abort() { aborted = true }

    func floats(_ name: String) throws -> [Float] { try written[name]!.floats() }
}

/// Captures the writer a merge creates.
final class WriterBox {
    var writer: MemoryWriter?
    var factory: StreamingMerge.WriterFactory {
        { infos, meta in
            let w = MemoryWriter(tensors: infos, metadata: meta)
            self.writer = w
            return w
        }
    }
}

func tensor(_ values: [Float], _ shape: [Int]? = nil, _ dtype: DType = .f32) -> Tensor {
    try! Tensor.fromFloats(values, shape: shape ?? [values.count], dtype: dtype)
}

/// Deterministic pseudo-random floats (no Foundation RNG: reproducible across platforms).
func randomFloats(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    (0..<n).map { i in (CounterRandom.uniform(key: seed, index: i) * 2 - 1) * scale }
}

import Foundation

/// Writes a `.safetensors` file tensor by tensor. The header is computed from the declared tensor
/// list up front (`SafetensorsLayout`), so each tensor can be written at its final offset in any
/// order and the whole model never needs to be in memory. The file appears atomically on
/// `finish()`; `abort()`, an error in `finish()`, or dropping the writer leaves nothing behind.
/// Ranged writes may come from several threads (pwrite at disjoint offsets; the set of finished
/// tensors is behind a lock).
public final class SafetensorsWriter: RangedCheckpointWriter, @unchecked Sendable {
    public let path: String
    public let layout: SafetensorsLayout
    private let output: AtomicOutputFile
    private let entries: [String: SafetensorsHeader.Entry]
    private var written = Set<String>()
    private let lock = NSLock()

    public init(path: String, tensors: [TensorInfo], metadata: [String: String]) throws {
        self.path = path
        self.layout = try SafetensorsLayout(tensors: tensors, metadata: metadata, path: path)
        var entries: [String: SafetensorsHeader.Entry] = [:]
        for e in layout.entries { entries[e.name] = e }
        self.entries = entries
        self.output = try AtomicOutputFile(path: path, size: layout.fileSize)
        var prefix = withUnsafeBytes(of: UInt64(layout.headerJSON.count).littleEndian) { Array($0) }
        prefix.append(contentsOf: layout.headerJSON)
        try prefix.withUnsafeBytes { try output.write($0, at: 0) }
    }

    public func write(_ tensor: Tensor, named name: String) throws {
        guard let e = entries[name] else { throw SafetensorsError.undeclaredTensor(path: path, tensor: name) }
        guard tensor.dtype == e.dtype, tensor.shape == e.shape else {
            throw SafetensorsError.tensorMismatch(path: path, tensor: name,
                                                  declared: "\(e.dtype.rawValue) \(Shape.describe(e.shape))",
                                                  given: "\(tensor.dtype.rawValue) \(Shape.describe(tensor.shape))")
        }
        try markWritten(name)
        try output.write(tensor.storage.buffer, at: layout.dataStart + e.begin)
    }

    public func write(_ bytes: UnsafeRawBufferPointer, ofTensor name: String, at offset: Int) throws {
        guard let e = entries[name] else { throw SafetensorsError.undeclaredTensor(path: path, tensor: name) }
        let byteCount = e.end - e.begin
        guard offset >= 0, bytes.count <= byteCount - offset else {
            throw SafetensorsError.rangeOutsideTensor(path: path, tensor: name, offset: offset, count: bytes.count, byteCount: byteCount)
        }
        try output.write(bytes, at: layout.dataStart + e.begin + offset)
    }

    public func completeTensor(_ name: String) throws {
        guard entries[name] != nil else { throw SafetensorsError.undeclaredTensor(path: path, tensor: name) }
        try markWritten(name)
    }

    private func markWritten(_ name: String) throws {
        lock.lock(); defer { lock.unlock() }
        guard written.insert(name).inserted else { throw SafetensorsError.tensorWrittenTwice(path: path, tensor: name) }
    }

    public func finish() throws {
        let missing = lock.withLock { layout.entries.map(\.name).filter { !written.contains($0) } }
        guard missing.isEmpty else {
            output.discard()
            throw SafetensorsError.tensorsNotWritten(path: path, tensors: missing)
        }
        try output.commit()
    }

    public func abort() { output.discard() }
}

import CHDF5
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads an HDF5 file (h5py, Keras, tvtool's own) as a checkpoint.
///
/// - Every numeric dataset reachable from `/` through hard links is a tensor, named by its path
///   with '/' → '.' (`/unet/down/0/weight` → `unet.down.0.weight`); Keras weight files get the
///   names described in `KerasLayout`. Listing order: by path, numeric siblings as integers.
/// - Two datasets whose names collide (`/a.b/c` and `/a/b/c`) keep the first; the later one is
///   named by its HDF5 path with slashes (`/a.b/c`) and a note says so.
/// - Metadata: root attributes under their own name; attributes of other objects as
///   `<dotted object path>@<attribute>` (e.g. `dense.kernel@dtype`).
/// - Skipped with a note: string, compound (except complex64), reference, opaque (unless a
///   `dtype` attribute names it), variable-length and array datasets, and null dataspaces.
///
/// Opening reads only the structure. `tensor(named:)` returns contiguous, unfiltered,
/// little-endian datasets as zero-copy views of the mapped file (at `H5Dget_offset`); everything
/// else (chunked, compressed, big-endian, converted) is read by libhdf5 into owned memory.
/// All libhdf5 calls are serialised through `HDF5Library.locked`, so a reader can be shared
/// between threads.
public final class HDF5Reader: CheckpointReader {
    public let path: String
    public let tensors: [TensorInfo]
    public let metadata: [String: String]
    public let notes: [String]
    /// The Keras layout whose naming was applied, if any.
    public let layoutDescription: String?

    private struct Entry: Sendable {
        let datasetPath: String
        let info: TensorInfo
        let plan: HDF5ReadPlan
        /// Byte offset of the values in the file when they can be viewed in place.
        let mappedOffset: Int?
    }

    private let file: HDF5Handle
    private let entries: [String: Entry]

    public func info(named name: String) -> TensorInfo? { entries[name]?.info }
    /// The whole file mapped read-only, for contiguous unfiltered datasets read without any
    /// fix-up (zero-copy tensors). nil when mapping failed (everything is then read via libhdf5).
    private let mapping: MappedFile?

    public init(path: String) throws {
        self.path = path
        try Self.checkSignature(path)
        // Global heaps are checked before libhdf5 reads anything: opening a dataset or an
        // attribute can already walk one, and a damaged one crashes or loops inside libhdf5.
        let mapping = try? MappedFile(path: path)
        if let mapping { try HDF5Library.locked { try HDF5GlobalHeapCheck.verify(mapping, path: path) } }
        let file: HDF5Handle = try HDF5Library.locked {
            guard let f = HDF5Handle(H5Fopen(path, tv_h5f_acc_rdonly(), HDF5Library.defaultPlist), .file) else {
                throw HDF5Error.cannotOpen(path: path, reason: HDF5Library.lastError(or: "libhdf5 could not open it"))
            }
            return f
        }
        let structure = try HDF5Library.locked { try HDF5FileStructure.read(file: file.id, path: path) }
        self.file = file
        self.mapping = mapping

        var notes: [String] = []
        var readable: [(HDF5FileStructure.Dataset, HDF5ReadPlan, [Int])] = []
        for d in structure.datasets.sorted(by: { HDF5Naming.pathPrecedes($0.path, $1.path) }) {
            switch (d.plan, d.shape) {
            case (.failure(let reason), _):
                notes.append("skipped /\(d.path): \(reason.text)")
            case (.success, nil):
                notes.append("skipped /\(d.path): no data (null dataspace)")
            case (.success(let plan), let shape?):
                guard let bytes = Shape.elementCount(shape).flatMap({ plan.dtype.byteCount(elements: $0) }),
                      bytes <= Self.maxTensorBytes else {
                    notes.append("skipped /\(d.path): shape \(Shape.describe(shape)) is too large to read")
                    continue
                }
                if let note = plan.note { notes.append("/\(d.path): \(note)") }
                readable.append((d, plan, shape))
            }
        }

        let layout = KerasLayout.detect(structure, tensorPaths: readable.map { $0.0.path })
        if let (kind, _) = layout { notes.insert(kind.namingNote, at: 0) }
        self.layoutDescription = layout?.0.rawValue

        var entries: [String: Entry] = [:]
        var infos: [TensorInfo] = []
        for (d, plan, shape) in readable {
            var name = layout?.1[d.path] ?? HDF5Naming.dottedName(d.path)
            if name.isEmpty || entries[name] != nil {
                let taken = name
                name = "/" + d.path
                notes.append("/\(d.path) is listed as '\(name)': its dotted name '\(taken)' is already used")
            }
            let info = TensorInfo(name: name, dtype: plan.dtype, shape: shape)
            // View in place only what needs no fix-up and lies wholly inside the mapped file.
            var mapped: Int? = nil
            if let offset = d.contiguousOffset, let m = mapping, plan.memory == .raw, plan.swapUnit == 0,
               plan.boolElementSize == 0, info.byteCount > 0, offset <= m.count - info.byteCount {
                mapped = offset
            }
            entries[name] = Entry(datasetPath: d.path, info: info, plan: plan, mappedOffset: mapped)
            infos.append(info)
        }
        self.entries = entries
        self.tensors = infos

        var metadata: [String: String] = [:]
        for (object, attrs) in structure.attributes {
            let prefix = object.isEmpty ? "" : HDF5Naming.dottedName(object) + "@"
            for a in attrs { metadata[prefix + a.name] = a.text }
        }
        self.metadata = metadata
        self.notes = notes + structure.skippedAttributes.map { "skipped attribute \($0)" }
    }

    public func tensor(named name: String) throws -> Tensor {
        guard let entry = entries[name] else { throw StorageError.tensorNotFound(path: path, tensor: name) }
        if let offset = entry.mappedOffset, let mapping {
            let view = ByteStorage(mapping: mapping, offset: offset, count: entry.info.byteCount)
            return try Tensor(dtype: entry.info.dtype, shape: entry.info.shape, storage: view)
        }
        let plan = entry.plan
        let count = entry.info.elementCount
        let bytes = entry.info.byteCount
        // Bool enums wider than a byte are read at their stored width, then narrowed.
        let readBytes = plan.boolElementSize > 1 ? count * plan.boolElementSize : bytes
        // Chunked data may be mostly fill values, so the size is not bounded by the file: an
        // allocation the system refuses is an error here, not a crash in the Swift runtime.
        var raw: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&raw, 64, max(readBytes, 1)) == 0, let raw else {
            throw HDF5Error.readFailed(path: path, tensor: name, reason: "cannot allocate \(ByteFormat.human(readBytes)) for its values")
        }
        // posix_memalign memory is freed with free(), which ByteStorage's deallocate is on Linux.
        let storage = ByteStorage(takingOwnershipOf: raw, count: readBytes)
        if count > 0 {
            try HDF5Library.locked { try readDataset(entry, into: UnsafeMutableRawBufferPointer(start: raw, count: readBytes)) }
        }
        let result: ByteStorage
        if plan.boolElementSize > 1 {
            result = ByteStorage.allocate(count: count) { out in
                let width = plan.boolElementSize
                for i in 0..<count {
                    var any: UInt8 = 0
                    for j in 0..<width { any |= storage.base.load(fromByteOffset: i * width + j, as: UInt8.self) }
                    out[i] = any != 0 ? 1 : 0
                }
            }
        } else {
            result = storage
            let mutable = UnsafeMutableRawBufferPointer(mutating: storage.buffer)
            if plan.swapUnit > 1 { HDF5ByteSwap.swap(mutable, unit: plan.swapUnit) }
            if plan.boolElementSize == 1 { for i in 0..<count where mutable[i] > 1 { mutable[i] = 1 } }
        }
        do {
            return try Tensor(dtype: entry.info.dtype, shape: entry.info.shape, storage: result)
        } catch {
            throw HDF5Error.readFailed(path: path, tensor: name, reason: error.description)
        }
    }

    /// Datasets larger than this are listed as skipped rather than allocated (a hostile header can
    /// declare any shape; a real checkpoint tensor is far smaller).
    static let maxTensorBytes = 1 << 40

    /// Reads the whole dataset into `buffer` (inside the lock).
    private func readDataset(_ entry: Entry, into buffer: UnsafeMutableRawBufferPointer) throws(HDF5Error) {
        let name = entry.info.name
        guard let dset = HDF5Handle(H5Dopen2(file.id, entry.datasetPath, HDF5Library.defaultPlist), .dataset) else {
            throw .readFailed(path: path, tensor: name, reason: HDF5Library.lastError(or: "cannot open dataset"))
        }
        let memType: HDF5Handle?
        switch entry.plan.memory {
        case .raw: memType = HDF5Handle(H5Dget_type(dset.id), .datatype)
        case .converted: memType = HDF5TypeMapping.standardType(for: entry.plan.dtype)
        }
        guard let memType else {
            throw .readFailed(path: path, tensor: name, reason: HDF5Library.lastError(or: "no memory datatype"))
        }
        guard H5Dread(dset.id, memType.id, tv_h5s_all(), tv_h5s_all(), HDF5Library.defaultPlist, buffer.baseAddress) >= 0 else {
            throw .readFailed(path: path, tensor: name, reason: HDF5Library.lastError(or: "H5Dread failed"))
        }
    }

    /// An HDF5 file starts with an 8-byte signature at offset 0, or at 512, 1024, 2048, … when a
    /// user block precedes it. Checking it ourselves gives a clearer message than libhdf5's.
    static func checkSignature(_ path: String) throws {
        let fd: Int32, size: Int
        switch RegularFile.openForReading(path) {
        case .opened(let f, let s): fd = f; size = s
        case .failed(let reason): throw HDF5Error.cannotOpen(path: path, reason: reason)
        }
        defer { close(fd) }
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
        var offset = 0
        var buf = [UInt8](repeating: 0, count: 8)
        while offset + 8 <= size {
            if pread(fd, &buf, 8, off_t(offset)) == 8 && buf == signature { return }
            offset = offset == 0 ? 512 : offset * 2
        }
        throw HDF5Error.notHDF5(path: path)
    }
}

import Foundation

/// Reads PyTorch checkpoints saved by torch.save (torch ≥ 1.6 ZIP format: `.bin`, `.pt`, `.pth`,
/// `.ckpt`) without Python and without executing anything from the file.
///
/// Opening parses the archive directory, verifies `data.pkl`'s CRC-32, runs the restricted
/// unpickler and validates every tensor against its storage, so `tensors` is trustworthy.
/// Contiguous tensors are then zero-copy views into the mapped file; strided ones are copied.
/// (Deflated entries, which torch never writes, are inflated into memory once per storage and
/// kept while recently used, so many views of one storage do not each inflate it again.)
///
/// Storage checksums: every storage's CRC-32 is verified on the first access of any tensor in it
/// (once per storage, thread-safe), so opening stays fast and a full read checks every byte
/// once. `OpenOptions.verifyChecksums = false` (or `verifyStorageChecksums: false`) skips that:
/// zlib's CRC-32 runs at about 5 GB/s per core, so it roughly triples the time of a pure read
/// pass over a page-cached file (scripts/bench/pytorch_read.sh). data.pkl is always verified.
public final class PyTorchReader: CheckpointReader {
    public let path: String
    public let tensors: [TensorInfo]
    public let metadata: [String: String] = [:]
    public let notes: [String]
    public let verifyStorageChecksums: Bool

    private let archive: ZipArchive
    private let slots: [String: Slot]
    private let verified = VerifiedEntries()
    private let inflated = InflatedEntries()

    private struct Slot {
        let layout: TensorLayout
        let entry: ZipEntry
        let info: TensorInfo
    }

    public func info(named name: String) -> TensorInfo? { slots[name]?.info }

    public init(path: String, options: OpenOptions = OpenOptions(), verifyStorageChecksums: Bool? = nil) throws {
        self.path = path
        self.verifyStorageChecksums = verifyStorageChecksums ?? options.verifyChecksums
        let file = try MappedFile(path: path)
        try Self.refuseLegacyFormat(file)
        let archive = try ZipArchive(file: file)
        self.archive = archive
        let root = try Self.archiveRoot(archive)
        if archive.entry(named: root + "/constants.pkl") != nil { throw PyTorchError.torchScriptArchive(path: path) }
        if let order = archive.entry(named: root + "/byteorder") {
            let text = try archive.contents(of: order, verify: true).withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
            guard text == "little" else { throw PyTorchError.unsupportedByteOrder(path: path, order: text) }
        }
        guard let pickleEntry = archive.entry(named: root + "/data.pkl") else { throw PyTorchError.missingDataPickle(path: path) }
        let pickle = try archive.contents(of: pickleEntry, verify: true)
        let (value, arena) = try pickle.withUnsafeBytes { try Unpickler.load($0, path: path) }

        var flattener = StateDictFlattener(path: path, arena: arena, maxVisits: pickle.count + 1024)
        try flattener.flatten(value, nestedKey: options.nestedKey)
        var infos: [TensorInfo] = []
        var slots: [String: Slot] = [:]
        for (name, index) in flattener.entries {
            let ref = arena.tensors[index]
            let storage = arena.storages[ref.storage]
            let entryName = root + "/data/" + storage.key
            guard let entry = archive.entry(named: entryName) else {
                throw PyTorchError.missingStorage(path: path, tensor: name, entry: entryName)
            }
            guard entry.method == 0 || entry.method == 8 else {
                throw ZipError.unsupportedCompression(path: path, entry: entry.name, method: entry.method)
            }
            let declared = storage.elementCount.multipliedReportingOverflow(by: storage.dtype.bitWidth / 8)
            guard !declared.overflow, declared.partialValue == entry.uncompressedSize else {
                throw PyTorchError.storageSizeMismatch(path: path, entry: entryName, declaredBytes: declared.overflow ? Int.max : declared.partialValue,
                                                       actualBytes: entry.uncompressedSize)
            }
            let layout: TensorLayout
            do { layout = try TensorLayout(ref) } catch let error {
                throw PyTorchError.invalidTensor(path: path, tensor: name, reason: Self.reason(error))
            }
            guard layout.neededBytes <= entry.uncompressedSize else {
                throw PyTorchError.storageTooShort(path: path, tensor: name, neededBytes: layout.neededBytes, storageBytes: entry.uncompressedSize)
            }
            let info = TensorInfo(name: name, dtype: layout.dtype, shape: layout.shape)
            infos.append(info)
            slots[name] = Slot(layout: layout, entry: entry, info: info)
        }
        self.tensors = infos
        self.slots = slots
        self.notes = flattener.notes
    }

    public func tensor(named name: String) throws -> Tensor {
        guard let slot = slots[name] else { throw StorageError.tensorNotFound(path: path, tensor: name) }
        let storage: ByteStorage
        if slot.entry.isStored {
            let verify = verifyStorageChecksums && !verified.contains(slot.entry.name)
            storage = try archive.contents(of: slot.entry, verify: verify)
            if verify { verified.insert(slot.entry.name) }
        } else if let cached = inflated.storage(for: slot.entry.name) {
            storage = cached
        } else {
            storage = try archive.contents(of: slot.entry, verify: true)  // inflating always checks the CRC
            inflated.insert(storage, for: slot.entry.name)
        }
        do {
            return try slot.layout.makeTensor(storage: storage)
        } catch let error {
            throw PyTorchError.invalidTensor(path: path, tensor: name, reason: Self.reason(error))
        }
    }

    /// Files from torch < 1.6 (or `_use_new_zipfile_serialization=False`) start with a pickle
    /// (protocol byte 0x80) holding a magic number; very old ones are tar archives.
    private static func refuseLegacyFormat(_ file: MappedFile) throws {
        let b = file.bytes
        let isPickle = b.count >= 2 && b[0] == 0x80 && b[1] <= 5
        let isTar = b.count >= 262 && Array(b[257 ..< 262]) == Array("ustar".utf8)
        if isPickle || isTar { throw PyTorchError.legacyFormat(path: file.path) }
    }

    /// torch writes every member under one root folder (named after the file when saved).
    private static func archiveRoot(_ archive: ZipArchive) throws -> String {
        let roots = archive.entries.compactMap { e -> String? in
            let parts = e.name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && parts[1] == "data.pkl" ? String(parts[0]) : nil
        }
        guard let root = roots.first else { throw PyTorchError.missingDataPickle(path: archive.path) }
        guard roots.count == 1 else { throw PyTorchError.ambiguousArchive(path: archive.path, roots: roots) }
        return root
    }

    private static func reason(_ error: StorageError) -> String {
        if case let .invalidTensor(_, reason) = error { return reason }
        return error.description
    }
}

/// Names of archive entries whose CRC-32 has been verified; shared by concurrent readers.
private final class VerifiedEntries: @unchecked Sendable {
    private let lock = NSLock()
    private var names: Set<String> = []

    func contains(_ name: String) -> Bool { lock.withLock { names.contains(name) } }
    func insert(_ name: String) { _ = lock.withLock { names.insert(name) } }
}

/// Inflated (deflate-compressed) storages, most recently used last, kept up to a byte budget
/// and 64 entries (the newest one always): views of one storage read one after another share one inflation.
private final class InflatedEntries: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(name: String, storage: ByteStorage)] = []
    private let budget = 1 << 30

    func storage(for name: String) -> ByteStorage? {
        lock.withLock {
            guard let i = entries.firstIndex(where: { $0.name == name }) else { return nil }
            let hit = entries.remove(at: i)
            entries.append(hit)
            return hit.storage
        }
    }

    func insert(_ storage: ByteStorage, for name: String) {
        lock.withLock {
            entries.removeAll { $0.name == name }
            entries.append((name, storage))
            var total = entries.reduce(0) { $0 + $1.storage.count }
            while entries.count > 1, total > budget || entries.count > 64 { total -= entries.removeFirst().storage.count }
        }
    }
}

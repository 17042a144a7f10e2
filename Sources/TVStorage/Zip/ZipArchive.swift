/// A read-only ZIP archive over a mapped file: the central directory parsed and every entry's
/// local header checked up front; stored entries are then zero-copy views into the mapping.
///
/// Written for the archives torch.save makes (stored entries, ZIP64 end records, data descriptors
/// after each entry), but it reads any single-disk archive of stored or deflated entries.
public final class ZipArchive: Sendable {
    public let file: MappedFile
    /// Entries in central-directory order.
    public let entries: [ZipEntry]
    private let index: [String: Int]

    public var path: String { file.path }

    public init(file: MappedFile) throws(ZipError) {
        self.file = file
        let bytes = file.bytes
        let end = try ZipEndRecord.locate(in: bytes, path: file.path)
        var cursor = ByteCursor(UnsafeRawBufferPointer(rebasing: bytes[end.directoryOffset ..< end.directoryOffset + end.directorySize]))
        var entries: [ZipEntry] = []
        var index: [String: Int] = [:]
        entries.reserveCapacity(end.entryCount)
        for _ in 0 ..< end.entryCount {
            let entry = try Self.readCentralRecord(&cursor, bytes: bytes, dataLimit: end.directoryOffset, path: file.path)
            guard index[entry.name] == nil else { throw .duplicateEntry(path: file.path, entry: entry.name) }
            index[entry.name] = entries.count
            entries.append(entry)
        }
        self.entries = entries
        self.index = index
    }

    public func entry(named name: String) -> ZipEntry? { index[name].map { entries[$0] } }

    /// The bytes of a stored entry, viewing the mapping (no copy, no checksum).
    public func storedBytes(of entry: ZipEntry) throws(ZipError) -> UnsafeRawBufferPointer {
        guard entry.isStored else {
            throw .unsupportedCompression(path: path, entry: entry.name, method: entry.method)
        }
        return UnsafeRawBufferPointer(rebasing: file.bytes[entry.dataOffset ..< entry.dataOffset + entry.compressedSize])
    }

    /// The entry's bytes: for a stored entry a view of the mapping (its CRC checked when `verify`),
    /// for a deflated one an owned, decompressed copy (its CRC always checked).
    public func contents(of entry: ZipEntry, verify: Bool) throws(ZipError) -> ByteStorage {
        switch entry.method {
        case 0:
            if verify { try verifyChecksum(of: entry) }
            return ByteStorage(mapping: file, offset: entry.dataOffset, count: entry.compressedSize)
        case 8:
            // (The declared size was bounded by the compressed size when the archive was opened.)
            let src = UnsafeRawBufferPointer(rebasing: file.bytes[entry.dataOffset ..< entry.dataOffset + entry.compressedSize])
            let out = UnsafeMutableRawPointer.allocate(byteCount: entry.uncompressedSize + 1, alignment: 64)
            guard Inflate.inflate(src, into: UnsafeMutableRawBufferPointer(start: out, count: entry.uncompressedSize + 1)) else {
                out.deallocate()
                throw .malformed(path: path, what: "entry '\(entry.name)' does not inflate to its declared \(entry.uncompressedSize) bytes")
            }
            let storage = ByteStorage(takingOwnershipOf: out, count: entry.uncompressedSize)
            let actual = storage.withUnsafeBytes { CRC32.checksum($0) }
            guard actual == entry.crc32 else {
                throw .checksumMismatch(path: path, entry: entry.name, expected: entry.crc32, actual: actual)
            }
            return storage
        default:
            throw .unsupportedCompression(path: path, entry: entry.name, method: entry.method)
        }
    }

    /// Checks a stored entry's CRC-32 against the directory (reads every byte of the entry).
    public func verifyChecksum(of entry: ZipEntry) throws(ZipError) {
        let actual = CRC32.checksum(try storedBytes(of: entry))
        guard actual == entry.crc32 else {
            throw .checksumMismatch(path: path, entry: entry.name, expected: entry.crc32, actual: actual)
        }
    }

    private static let centralSignature: UInt32 = 0x0201_4b50
    private static let localSignature: UInt32 = 0x0403_4b50

    /// Reads one central-directory record and validates its local header and data range.
    private static func readCentralRecord(_ c: inout ByteCursor, bytes: UnsafeRawBufferPointer, dataLimit: Int,
                                          path: String) throws(ZipError) -> ZipEntry {
        guard c.has(46), c.u32() == centralSignature else {
            throw .malformed(path: path, what: "bad central directory record at offset \(c.offset)")
        }
        c.offset += 4  // versions made by / needed
        let flags = c.u16()!, method = c.u16()!
        c.offset += 4  // time, date
        let crc = c.u32()!, csize32 = c.u32()!, usize32 = c.u32()!
        let nameLength = Int(c.u16()!), extraLength = Int(c.u16()!), commentLength = Int(c.u16()!)
        c.offset += 8  // disk, internal and external attributes
        let offset32 = c.u32()!
        guard let nameBytes = c.take(nameLength), let extra = c.take(extraLength), c.take(commentLength) != nil else {
            throw .truncated(path: path, what: "central directory record cut short")
        }
        let name = String(decoding: nameBytes, as: UTF8.self)
        if flags & 1 != 0 { throw .encrypted(path: path, entry: name) }
        var csize = UInt64(csize32), usize = UInt64(usize32), offset = UInt64(offset32)
        try applyZip64Extra(extra, usize: &usize, csize: &csize, offset: &offset, entry: name, path: path)
        guard let compressed = Int(exactly: csize), let uncompressed = Int(exactly: usize),
              let local = Int(exactly: offset), local <= dataLimit else {
            throw .entryOutsideFile(path: path, entry: name)
        }
        // Local header: 30 fixed bytes, then its own copy of the name and an extra field (torch pads
        // it so storages are 64-byte aligned). Sizes there may be zero (data descriptor follows).
        var l = ByteCursor(bytes, offset: local)
        guard l.has(30), local + 30 <= dataLimit else { throw .entryOutsideFile(path: path, entry: name) }
        guard l.u32() == localSignature else {
            throw .localHeaderMismatch(path: path, entry: name, reason: "no local header signature at offset \(local)")
        }
        l.offset = local + 8
        let localMethod = l.u16()!
        l.offset = local + 26
        let localNameLength = Int(l.u16()!), localExtraLength = Int(l.u16()!)
        guard let localName = l.take(localNameLength), l.take(localExtraLength) != nil else {
            throw .entryOutsideFile(path: path, entry: name)
        }
        guard localName.elementsEqual(nameBytes) else {
            throw .localHeaderMismatch(path: path, entry: name, reason: "names differ")
        }
        guard localMethod == method else {
            throw .localHeaderMismatch(path: path, entry: name, reason: "compression methods differ")
        }
        let dataOffset = l.offset
        guard compressed <= dataLimit - dataOffset else { throw .entryOutsideFile(path: path, entry: name) }
        if method == 0 && compressed != uncompressed {
            throw .malformed(path: path, what: "stored entry '\(name)' has different compressed and uncompressed sizes")
        }
        // Checked at open, not first read: a reader sizes tensors by the declared size, so a
        // few compressed bytes claiming gigabytes are refused before any command plans with them.
        if method == 8 {
            let (limit, overflow) = compressed.multipliedReportingOverflow(by: Inflate.maxRatio)
            guard !overflow, uncompressed <= limit + 1024, uncompressed < Int.max else {
                throw .malformed(path: path, what: "entry '\(name)' claims an impossible compression ratio (\(uncompressed) bytes from \(compressed))")
            }
        }
        return ZipEntry(name: name, method: method, crc32: crc, compressedSize: compressed,
                        uncompressedSize: uncompressed, localHeaderOffset: local, dataOffset: dataOffset)
    }

    /// ZIP64 extended information (header id 1): 8-byte values for each 32-bit field that is
    /// 0xFFFFFFFF, in the order uncompressed size, compressed size, local header offset.
    private static func applyZip64Extra(_ extra: UnsafeRawBufferPointer, usize: inout UInt64, csize: inout UInt64,
                                        offset: inout UInt64, entry: String, path: String) throws(ZipError) {
        let needs = usize == 0xffff_ffff || csize == 0xffff_ffff || offset == 0xffff_ffff
        var c = ByteCursor(extra)
        while c.has(4) {
            let id = c.u16()!, size = Int(c.u16()!)
            guard let body = c.take(size) else { break }
            guard id == 1 else { continue }
            var b = ByteCursor(body)
            if usize == 0xffff_ffff { guard let v = b.u64() else { break }; usize = v }
            if csize == 0xffff_ffff { guard let v = b.u64() else { break }; csize = v }
            if offset == 0xffff_ffff { guard let v = b.u64() else { break }; offset = v }
            return
        }
        if needs { throw .malformed(path: path, what: "entry '\(entry)' lacks its ZIP64 sizes") }
    }
}

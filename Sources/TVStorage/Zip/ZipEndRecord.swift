/// Where the central directory is, from the end-of-central-directory record (EOCD) and, when
/// present, the ZIP64 EOCD that its locator points to (torch writes ZIP64 records for every file).
struct ZipEndRecord {
    let entryCount: Int
    let directoryOffset: Int
    let directorySize: Int
    /// Offset of the first end record (the directory must end at or before it).
    let endOffset: Int

    private static let eocdSignature: UInt32 = 0x0605_4b50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    private static let zip64EndSignature: UInt32 = 0x0606_4b50
    private static let eocdSize = 22

    /// Finds and validates the end records of the archive in `bytes`.
    static func locate(in bytes: UnsafeRawBufferPointer, path: String) throws(ZipError) -> ZipEndRecord {
        let count = bytes.count
        let startsLikeZip = count >= 4 && bytes.loadUnaligned(as: UInt32.self) == 0x0403_4b50
        guard count >= eocdSize else {
            throw startsLikeZip ? .truncated(path: path, what: "no end-of-central-directory record") : .notAZip(path: path)
        }
        // The EOCD sits at the end, followed only by its comment (at most 65535 bytes). Scanning
        // backwards, accept the first signature whose comment length reaches exactly to the end.
        var eocd = -1
        var pos = count - eocdSize
        let lowest = max(0, count - eocdSize - 0xffff)
        while pos >= lowest {
            var c = ByteCursor(bytes, offset: pos)
            if c.u32() == eocdSignature {
                c.offset = pos + 20
                if let commentLength = c.u16(), pos + eocdSize + Int(commentLength) == count {
                    eocd = pos
                    break
                }
            }
            pos -= 1
        }
        guard eocd >= 0 else {
            throw startsLikeZip ? .truncated(path: path, what: "no end-of-central-directory record") : .notAZip(path: path)
        }
        var c = ByteCursor(bytes, offset: eocd + 4)
        let disk = c.u16()!, directoryDisk = c.u16()!, entriesHere = c.u16()!, entries = c.u16()!
        let size = c.u32()!, offset = c.u32()!
        guard disk == 0 || disk == 0xffff, directoryDisk == 0 || directoryDisk == 0xffff, entriesHere == entries else {
            throw .malformed(path: path, what: "multi-disk archives are not supported")
        }
        var record = ZipEndRecord(entryCount: Int(entries), directoryOffset: Int(offset),
                                  directorySize: Int(size), endOffset: eocd)
        if eocd >= 20, ByteCursor(bytes, offset: eocd - 20).peekU32() == zip64LocatorSignature {
            record = try zip64(bytes, locator: eocd - 20, path: path)
        } else if entries == 0xffff || size == 0xffff_ffff || offset == 0xffff_ffff {
            throw .malformed(path: path, what: "ZIP64 values without a ZIP64 end record")
        }
        guard record.directoryOffset <= record.endOffset,
              record.directorySize <= record.endOffset - record.directoryOffset else {
            throw .truncated(path: path, what: "the central directory lies outside the file")
        }
        // A central record takes at least 46 bytes: bounds the entry count by the directory size.
        guard record.entryCount <= record.directorySize / 46 else {
            throw .malformed(path: path, what: "\(record.entryCount) entries cannot fit in a \(record.directorySize)-byte directory")
        }
        return record
    }

    private static func zip64(_ bytes: UnsafeRawBufferPointer, locator: Int, path: String) throws(ZipError) -> ZipEndRecord {
        var c = ByteCursor(bytes, offset: locator + 8)
        let endOffset64 = c.u64()!
        guard endOffset64 <= UInt64(locator), let endOffset = Int(exactly: endOffset64) else {
            throw .truncated(path: path, what: "the ZIP64 end record lies outside the file")
        }
        var e = ByteCursor(bytes, offset: endOffset)
        guard e.u32() == zip64EndSignature, e.has(52) else {
            throw .malformed(path: path, what: "bad ZIP64 end-of-central-directory record")
        }
        e.offset = endOffset + 16
        let disk = e.u32()!, directoryDisk = e.u32()!, entriesHere = e.u64()!, entries = e.u64()!
        let size = e.u64()!, offset = e.u64()!
        guard disk == 0, directoryDisk == 0, entriesHere == entries else {
            throw .malformed(path: path, what: "multi-disk archives are not supported")
        }
        guard let n = Int(exactly: entries), let s = Int(exactly: size), let o = Int(exactly: offset) else {
            throw .malformed(path: path, what: "ZIP64 directory values out of range")
        }
        return ZipEndRecord(entryCount: n, directoryOffset: o, directorySize: s, endOffset: endOffset)
    }
}

extension ByteCursor {
    func peekU32() -> UInt32? {
        var copy = self
        return copy.u32()
    }
}

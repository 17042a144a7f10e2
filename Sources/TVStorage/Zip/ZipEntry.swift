/// One member of a ZIP archive, as described by its central-directory record and checked against
/// its local header. `dataOffset ..< dataOffset + compressedSize` lies inside the file (checked).
public struct ZipEntry: Sendable, Hashable {
    public let name: String
    /// 0 = stored (zero-copy), 8 = deflate (inflated into memory); other methods are refused.
    public let method: UInt16
    public let crc32: UInt32
    public let compressedSize: Int
    public let uncompressedSize: Int
    public let localHeaderOffset: Int
    /// Absolute offset of the entry's bytes in the file.
    public let dataOffset: Int

    public var isStored: Bool { method == 0 }
}

/// Bounds-checked little-endian reads over a byte buffer. Every read returns nil instead of
/// reading past the end, so parsers of hostile files (ZIP directories, pickles) cannot trap.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { max(0, bytes.count - offset) }
    var atEnd: Bool { offset >= bytes.count }

    /// True when `n` bytes can be read at the current offset.
    func has(_ n: Int) -> Bool { n >= 0 && offset >= 0 && n <= bytes.count - offset }

    mutating func u8() -> UInt8? {
        guard has(1) else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() -> UInt16? { fixedWidth(UInt16.self) }
    mutating func u32() -> UInt32? { fixedWidth(UInt32.self) }
    mutating func u64() -> UInt64? { fixedWidth(UInt64.self) }

    /// The next `n` bytes as a slice of the underlying buffer (no copy).
    mutating func take(_ n: Int) -> UnsafeRawBufferPointer? {
        guard has(n) else { return nil }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + n])
    }

    /// Bytes up to (not including) the next `terminator`, which is consumed.
    mutating func line(terminator: UInt8 = 0x0a, maxLength: Int) -> UnsafeRawBufferPointer? {
        var end = offset
        while end < bytes.count, end - offset <= maxLength {
            if bytes[end] == terminator {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[offset ..< end])
                offset = end + 1
                return slice
            }
            end += 1
        }
        return nil
    }

    private mutating func fixedWidth<T: FixedWidthInteger>(_: T.Type) -> T? {
        let n = MemoryLayout<T>.size
        guard has(n) else { return nil }
        defer { offset += n }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

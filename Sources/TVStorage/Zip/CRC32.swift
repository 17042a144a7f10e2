import CZlib

/// CRC-32 (the ZIP/zlib polynomial) computed by zlib, in chunks because zlib takes a 32-bit length.
enum CRC32 {
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = crc32(0, nil, 0)
        guard var p = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return UInt32(crc) }
        var left = bytes.count
        let chunk = 1 << 30
        while left > 0 {
            let n = min(left, chunk)
            crc = crc32(crc, p, uInt(n))
            p += n
            left -= n
        }
        return UInt32(truncatingIfNeeded: crc)
    }
}

import CZlib

/// Raw-deflate decompression (ZIP method 8) with zlib, into an owned buffer of exactly the size
/// the directory declares. torch.save never compresses, but archives re-packed by other tools may.
enum Inflate {
    /// Deflate cannot expand more than about 1032:1; a larger declared size is a zip bomb or a lie.
    static let maxRatio = 1032

    static func inflate(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) -> Bool {
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return false }
        defer { inflateEnd(&stream) }
        var inOffset = 0, outOffset = 0
        let chunk = 1 << 30  // zlib counts in 32-bit lengths
        while true {
            if stream.avail_in == 0, inOffset < src.count {
                let n = min(chunk, src.count - inOffset)
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress!.advanced(by: inOffset).assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(n)
                inOffset += n
            }
            if stream.avail_out == 0 {
                // One spare byte past the end lets zlib report data beyond the declared size.
                let n = min(chunk, dst.count - outOffset)
                guard n > 0 else { return false }
                stream.next_out = dst.baseAddress!.advanced(by: outOffset).assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(n)
                outOffset += n
            }
            let status = CZlib.inflate(&stream, Z_NO_FLUSH)
            if status == Z_STREAM_END { return stream.total_out == uLong(dst.count - 1) }
            guard status == Z_OK else { return false }
            if stream.avail_in == 0 && inOffset >= src.count && stream.avail_out > 0 { return false }  // input ended early
        }
    }
}

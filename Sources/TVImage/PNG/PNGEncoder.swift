import CZlib
import Foundation

/// Writes 8-bit greyscale or RGB PNGs (no filtering, zlib level 6), atomically.
public enum PNGEncoder {
    public static func encode(_ image: RasterImage) -> [UInt8] {
        let stride = image.width * image.channels
        var raw = [UInt8]()
        raw.reserveCapacity(image.height * (stride + 1))
        for y in 0..<image.height {
            raw.append(0)
            raw.append(contentsOf: image.pixels[(y * stride)..<((y + 1) * stride)])
        }
        var compressedLength = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedLength))
        let status = compressed.withUnsafeMutableBufferPointer { dst in
            raw.withUnsafeBufferPointer { src in compress2(dst.baseAddress!, &compressedLength, src.baseAddress!, uLong(src.count), 6) }
        }
        precondition(status == Z_OK, "zlib compress2 failed with a sufficient buffer")
        compressed.removeLast(compressed.count - Int(compressedLength))

        var out = PNGDecoder.signature
        var header = [UInt8]()
        appendBE32(&header, image.width); appendBE32(&header, image.height)
        header += [8, image.channels == 1 ? 0 : 2, 0, 0, 0]
        appendChunk(&out, "IHDR", header)
        appendChunk(&out, "IDAT", compressed)
        appendChunk(&out, "IEND", [])
        return out
    }

    /// Writes `image` via a temporary file and rename. (TVImage sits below TVStorage, so this does
    /// not register the temporary file for removal on interrupt; tvtool's own outputs go through
    /// TVStorage's `AtomicFile` instead.)
    public static func write(_ image: RasterImage, to path: String) throws(PNGError) {
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try Data(encode(image)).write(to: tmp)
            guard rename(tmp.path, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw .cannotWrite(path: path, reason: "\(error.localizedDescription)")
        }
    }

    static func appendBE32(_ out: inout [UInt8], _ v: Int) {
        out += [UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
    }

    static func appendChunk(_ out: inout [UInt8], _ type: String, _ body: [UInt8]) {
        appendBE32(&out, body.count)
        let typed = Array(type.utf8) + body
        out += typed
        let crc = typed.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress!, UInt32($0.count))) }
        appendBE32(&out, Int(crc))
    }
}

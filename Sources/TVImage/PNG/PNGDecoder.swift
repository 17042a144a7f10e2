import CZlib
import Foundation

/// Reads PNG files of every colour type and bit depth (grey 1/2/4/8/16, RGB 8/16, palette
/// 1/2/4/8 with optional tRNS alpha, grey + alpha 8/16, RGBA 8/16), non-interlaced, all five row
/// filters; chunk CRCs are checked. `samples` keeps full precision; `read`/`decode` give the
/// 8-bit grey or RGB image (alpha dropped). Adam7 interlacing is reported as unsupported.
public enum PNGDecoder {
    static let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]

    public static func read(_ path: String) throws(PNGError) -> RasterImage { try readSamples(path).raster() }

    public static func decode(_ b: [UInt8], source: String) throws(PNGError) -> RasterImage { try samples(b, source: source).raster() }

    public static func readSamples(_ path: String) throws(PNGError) -> PNGSamples {
        guard let data = FileManager.default.contents(atPath: path) else { throw .corrupt(path: path, reason: "cannot read file") }
        return try samples([UInt8](data), source: path)
    }

    public static func samples(_ b: [UInt8], source: String) throws(PNGError) -> PNGSamples {
        guard b.count >= 8, Array(b[0..<8]) == signature else { throw .notPNG(path: source) }
        var pos = 8
        var width = 0, height = 0, channels = 0, depth = 0
        var colour: UInt8 = 0
        var palette = [UInt8](), paletteAlpha = [UInt8]()
        var sawHeader = false, sawEnd = false
        var idat = [UInt8]()
        func be32(_ i: Int) -> Int { Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3]) }
        while pos < b.count && !sawEnd {
            guard pos + 12 <= b.count else { throw .corrupt(path: source, reason: "truncated chunk header") }
            let length = be32(pos)
            guard length >= 0, length <= b.count - pos - 12 else { throw .corrupt(path: source, reason: "truncated chunk") }
            let type = String(decoding: b[(pos + 4)..<(pos + 8)], as: UTF8.self)
            let body = pos + 8
            let stored = UInt32(be32(body + length))
            let crc = b.withUnsafeBufferPointer { p in
                UInt32(crc32(0, p.baseAddress! + pos + 4, UInt32(length + 4)))
            }
            guard crc == stored else { throw .corrupt(path: source, reason: "CRC mismatch in \(type) chunk") }
            switch type {
            case "IHDR":
                guard length == 13 else { throw .corrupt(path: source, reason: "IHDR has length \(length)") }
                width = be32(body); height = be32(body + 4)
                depth = Int(b[body + 8]); colour = b[body + 9]
                let interlace = b[body + 12]
                guard width > 0, height > 0, width <= 1 << 16, height <= 1 << 16 else {
                    throw .corrupt(path: source, reason: "bad size \(width)×\(height)")
                }
                let depths: [UInt8: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
                guard let allowed = depths[colour] else { throw .corrupt(path: source, reason: "colour type \(colour)") }
                guard allowed.contains(depth) else { throw .corrupt(path: source, reason: "bit depth \(depth) with colour type \(colour)") }
                channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colour]!
                guard b[body + 10] == 0, b[body + 11] == 0 else { throw .corrupt(path: source, reason: "unknown compression or filter method") }
                guard interlace == 0 else { throw .unsupported(path: source, feature: "Adam7 interlacing") }
                sawHeader = true
            case "IDAT":
                guard sawHeader else { throw .corrupt(path: source, reason: "IDAT before IHDR") }
                idat.append(contentsOf: b[body..<(body + length)])
            case "PLTE":
                guard length % 3 == 0, length > 0, length <= 768 else { throw .corrupt(path: source, reason: "PLTE of \(length) bytes") }
                palette = Array(b[body..<(body + length)])
            case "tRNS":
                // Palette alpha per entry; for grey/RGB a single transparent colour, which is
                // ignored (alpha is not used for training data).
                if colour == 3 { paletteAlpha = Array(b[body..<(body + length)]) }
            case "IEND": sawEnd = true
            default:
                // Critical chunks we do not know (uppercase first letter) cannot be skipped safely.
                if let first = type.unicodeScalars.first, first.value < 97 {
                    throw .unsupported(path: source, feature: "critical chunk \(type)")
                }
            }
            pos = body + length + 4
        }
        guard sawHeader else { throw .corrupt(path: source, reason: "no IHDR chunk") }
        guard !idat.isEmpty else { throw .corrupt(path: source, reason: "no image data") }
        if colour == 3 && palette.isEmpty { throw .corrupt(path: source, reason: "palette image without a PLTE chunk") }
        let stride = (width * channels * depth + 7) / 8
        guard height * (stride + 1) <= 1 << 30 else {
            throw .unsupported(path: source, feature: "\(width)×\(height) image over 1 GiB decoded")
        }
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var rawLength = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { dst in
            idat.withUnsafeBufferPointer { src in
                uncompress(dst.baseAddress!, &rawLength, src.baseAddress!, uLong(src.count))
            }
        }
        guard status == Z_OK, Int(rawLength) == raw.count else {
            throw .corrupt(path: source, reason: status == Z_OK ? "image data has \(rawLength) bytes, expected \(raw.count)" : "zlib error \(status)")
        }
        let rows = try unfilter(raw, height: height, stride: stride, bpp: max(1, channels * depth / 8), source: source)
        return try PNGSamples.unpack(rows, width: width, height: height, stride: stride, colour: colour, depth: depth,
                                     palette: palette, paletteAlpha: paletteAlpha, source: source)
    }

    /// Reverses the per-row filters (None, Sub, Up, Average, Paeth) of the PNG spec.
    static func unfilter(_ raw: [UInt8], height: Int, stride: Int, bpp: Int, source: String) throws(PNGError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            let src = y * (stride + 1) + 1, dst = y * stride, up = dst - stride
            for x in 0..<stride {
                let a = x >= bpp ? Int(out[dst + x - bpp]) : 0
                let bUp = y > 0 ? Int(out[up + x]) : 0
                let c = (x >= bpp && y > 0) ? Int(out[up + x - bpp]) : 0
                let v = Int(raw[src + x])
                let pred: Int
                switch filter {
                case 0: pred = 0
                case 1: pred = a
                case 2: pred = bUp
                case 3: pred = (a + bUp) / 2
                case 4:
                    let p = a + bUp - c, pa = abs(p - a), pb = abs(p - bUp), pc = abs(p - c)
                    pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? bUp : c)
                default: throw .corrupt(path: source, reason: "unknown row filter \(filter) in row \(y)")
                }
                out[dst + x] = UInt8(truncatingIfNeeded: v + pred)
            }
        }
        return out
    }
}

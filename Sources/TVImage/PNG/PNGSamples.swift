/// A decoded PNG at full precision: every colour type and bit depth of the PNG spec, palettes
/// expanded. `samples` is height × width × channels, row-major, interleaved; channels are
/// 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. Grey of 1/2/4 bits is scaled to 0...255 (v·255/(2^d−1),
/// exact), so `maxValue` is 255 or 65535 (16-bit files).
public struct PNGSamples: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public let maxValue: Int
    public let samples: [UInt16]

    public var hasAlpha: Bool { channels == 2 || channels == 4 }
    /// Colour channels without alpha: 1 (grey) or 3 (RGB).
    public var colourChannels: Int { channels >= 3 ? 3 : 1 }

    /// Colour sample `k` (< colourChannels) of pixel `p` as a fraction of `maxValue` in [0, 1];
    /// alpha is not applied (as PIL's `convert("RGB")` drops it).
    @inline(__always)
    public func value(pixel p: Int, channel k: Int) -> Float {
        Float(samples[p * channels + k]) / Float(maxValue)
    }

    /// The 8-bit grey or RGB image (alpha dropped; 16-bit rounded to the nearest 8-bit level).
    public func raster() -> RasterImage {
        let c = colourChannels, n = width * height
        var px = [UInt8](repeating: 0, count: n * c)
        for p in 0..<n {
            for k in 0..<c {
                let s = Int(samples[p * channels + k])
                px[p * c + k] = UInt8(maxValue == 255 ? s : (s * 255 + 32767) / 65535)
            }
        }
        return RasterImage(width: width, height: height, channels: c, pixels: px)
    }

    /// Unpacks unfiltered scanlines (`stride` bytes per row) of the given colour type and depth.
    static func unpack(_ rows: [UInt8], width: Int, height: Int, stride: Int, colour: UInt8, depth: Int,
                       palette: [UInt8], paletteAlpha: [UInt8], source: String) throws(PNGError) -> PNGSamples {
        let fileChannels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][Int(colour)]!
        let n = width * height
        // Raw sample j of row y (any depth).
        func sample(_ y: Int, _ j: Int) -> Int {
            let base = y * stride
            switch depth {
            case 16: return Int(rows[base + 2 * j]) << 8 | Int(rows[base + 2 * j + 1])
            case 8: return Int(rows[base + j])
            default:
                let bit = j * depth, byte = rows[base + bit / 8]
                return Int(byte >> UInt8(8 - depth - bit % 8)) & ((1 << depth) - 1)
            }
        }
        if colour == 3 {
            let entries = palette.count / 3
            let withAlpha = !paletteAlpha.isEmpty
            let c = withAlpha ? 4 : 3
            var out = [UInt16](repeating: 0, count: n * c)
            for y in 0..<height {
                for x in 0..<width {
                    let i = sample(y, x)
                    guard i < entries else {
                        throw .corrupt(path: source, reason: "palette index \(i) at (\(x), \(y)) beyond the \(entries)-entry PLTE")
                    }
                    let o = (y * width + x) * c
                    for k in 0..<3 { out[o + k] = UInt16(palette[3 * i + k]) }
                    if withAlpha { out[o + 3] = UInt16(i < paletteAlpha.count ? paletteAlpha[i] : 255) }
                }
            }
            return PNGSamples(width: width, height: height, channels: c, maxValue: 255, samples: out)
        }
        let scale = depth < 8 ? 255 / ((1 << depth) - 1) : 1
        var out = [UInt16](repeating: 0, count: n * fileChannels)
        for y in 0..<height {
            for j in 0..<(width * fileChannels) { out[y * width * fileChannels + j] = UInt16(sample(y, j) * scale) }
        }
        return PNGSamples(width: width, height: height, channels: fileChannels, maxValue: depth == 16 ? 65535 : 255, samples: out)
    }
}

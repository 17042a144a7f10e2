/// An 8-bit image: `pixels` is height × width × channels, row-major, interleaved
/// (1 channel: grey; 3: RGB).
public struct RasterImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && (channels == 1 || channels == 3))
        precondition(pixels.count == width * height * channels)
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A blank (black) image.
    public init(width: Int, height: Int, channels: Int) {
        self.init(width: width, height: height, channels: channels, pixels: [UInt8](repeating: 0, count: width * height * channels))
    }

    /// Tiles equally sized images row by row into one image, `columns` per row, separated and
    /// framed by `padding` pixels of value `background`.
    public static func grid(_ images: [RasterImage], columns: Int, padding: Int = 1, background: UInt8 = 0) -> RasterImage {
        precondition(!images.isEmpty && columns > 0)
        let w = images[0].width, h = images[0].height, c = images[0].channels
        precondition(images.allSatisfy { $0.width == w && $0.height == h && $0.channels == c })
        let rows = (images.count + columns - 1) / columns
        let gw = columns * w + (columns + 1) * padding, gh = rows * h + (rows + 1) * padding
        var out = RasterImage(width: gw, height: gh, channels: c,
                              pixels: [UInt8](repeating: background, count: gw * gh * c))
        for (k, img) in images.enumerated() {
            let ox = padding + (k % columns) * (w + padding), oy = padding + (k / columns) * (h + padding)
            for y in 0..<h {
                let src = y * w * c, dst = ((oy + y) * gw + ox) * c
                for j in 0..<(w * c) { out.pixels[dst + j] = img.pixels[src + j] }
            }
        }
        return out
    }

    /// Nearest-neighbour upscaling by an integer factor (8×8 digits are too small to look at).
    public func scaled(by factor: Int) -> RasterImage {
        precondition(factor >= 1)
        if factor == 1 { return self }
        let w = width * factor, h = height * factor
        var p = [UInt8](repeating: 0, count: w * h * channels)
        for y in 0..<h {
            for x in 0..<w {
                for ch in 0..<channels { p[(y * w + x) * channels + ch] = pixels[((y / factor) * width + x / factor) * channels + ch] }
            }
        }
        return RasterImage(width: w, height: h, channels: channels, pixels: p)
    }
}

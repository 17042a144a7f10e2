import Foundation
import TVImage

/// A folder of PNG files as a data set, read in name order. Every colour type and bit depth is
/// read at full precision (value / max · 2 − 1); alpha is dropped (as PIL's `convert("RGB")`
/// does). If any image has colour, all become RGB (grey replicated), else all are grey. With a
/// target size, images of another size are an error, or with `resize` are resized (Pillow
/// BILINEAR, shorter side to the target, centre crop: `ImageResize`).
enum PNGFolder {
    static func load(_ dir: String, options: DataOptions) throws -> ImageDataset {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.lowercased().hasSuffix(".png") }.sorted()
        guard !names.isEmpty else { throw TrainerError.badData(source: dir, reason: "no .png files in the folder") }
        var images: [(name: String, png: PNGSamples)] = []
        for n in names {
            let path = (dir as NSString).appendingPathComponent(n)
            do { images.append((n, try PNGDecoder.readSamples(path))) } catch {
                throw TrainerError.badData(source: path, reason: error.description.replacingOccurrences(of: path + ": ", with: ""))
            }
        }
        let c = images.contains { $0.png.colourChannels == 3 } ? 3 : 1
        let first = images[0].png
        let (th, tw) = options.imageSize.map { ($0.height, $0.width) } ?? (first.height, first.width)
        var values = [Float]()
        values.reserveCapacity(images.count * c * th * tw)
        for (name, png) in images {
            if png.height != th || png.width != tw {
                guard options.resize else {
                    let want = options.imageSize == nil ? "\(names[0]) is \(tw)×\(th) (all images must match; --resize resizes them)"
                        : "--image-size is \(tw)×\(th) (add --resize to resize)"
                    throw TrainerError.badData(source: (dir as NSString).appendingPathComponent(name),
                                               reason: "is \(png.width)×\(png.height), but \(want)")
                }
            }
            var planar = [Float](repeating: 0, count: c * png.height * png.width)
            let n = png.width * png.height
            for k in 0..<c {
                let src = png.colourChannels == 1 ? 0 : k
                for p in 0..<n { planar[k * n + p] = png.value(pixel: p, channel: src) * 2 - 1 }
            }
            values += ImageResize.coverAndCrop(planar, channels: c, height: png.height, width: png.width, toHeight: th, width: tw)
        }
        return ImageDataset(channels: c, height: th, width: tw, values: values, source: dir)
    }
}

/// How `DatasetLoader` shapes images: a target size that is checked, or reached by resizing.
public struct DataOptions: Sendable, Equatable {
    public struct Size: Sendable, Equatable {
        public var height: Int
        public var width: Int
        public init(height: Int, width: Int) { self.height = height; self.width = width }
    }
    public var imageSize: Size?
    public var resize = false
    public init(imageSize: Size? = nil, resize: Bool = false) { self.imageSize = imageSize; self.resize = resize }

    /// `S` (square) or `WxH`.
    public static func parseSize(_ text: String) throws(TrainerError) -> Size {
        let parts = text.lowercased().split(separator: "x").map { Int($0) }
        if parts.count == 1, let s = parts[0], s > 0 { return Size(height: s, width: s) }
        if parts.count == 2, let w = parts[0], let h = parts[1], w > 0, h > 0 { return Size(height: h, width: w) }
        throw .badArgument("--image-size '\(text)': expected S or WxH with positive integers, e.g. 32 or 64x48")
    }
}

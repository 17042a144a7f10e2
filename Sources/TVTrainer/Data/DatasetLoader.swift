import Foundation
import TVImage
import TVStorage

/// Turns a `--data` argument into an `ImageDataset` in [-1, 1]:
/// - `digits`: the bundled 8×8 digits (fixtures/trainer/digits.npy, grey levels 0..16);
/// - a `.npy` file, or a checkpoint file (`path` or `path:tensor`, via `Checkpoints.open`) holding
///   N×C×H×W, N×H×W (one channel) or N×D (a square D is read as √D×√D, otherwise 1×1×D);
///   uint8 is scaled v/255·2-1, floats must already lie in [-1, 1];
/// - `cifar10:FOLDER`: CIFAR-10's python or binary training batches (`CIFAR10`);
/// - a folder of PNG files, read in name order (`PNGFolder`).
public enum DatasetLoader {
    /// With `options`, a folder of PNGs is checked against (or resized to) the image size; other
    /// sources are checked against it, or resized as a whole with `resize`.
    public static func load(_ spec: String, options: DataOptions) throws -> ImageDataset {
        var isDir: ObjCBool = false
        if !spec.hasPrefix("cifar10:"), spec != "digits", FileManager.default.fileExists(atPath: spec, isDirectory: &isDir), isDir.boolValue {
            return try PNGFolder.load(spec, options: options)
        }
        let data = try load(spec)
        guard let size = options.imageSize, size.height != data.height || size.width != data.width else { return data }
        guard options.resize else {
            throw TrainerError.badData(source: data.source, reason: "images are \(data.width)×\(data.height), but --image-size is \(size.width)×\(size.height) (add --resize to resize)")
        }
        var values = [Float]()
        values.reserveCapacity(data.count * data.channels * size.height * size.width)
        for i in 0..<data.count {
            values += ImageResize.coverAndCrop(Array(data.image(i)), channels: data.channels, height: data.height, width: data.width,
                                               toHeight: size.height, width: size.width)
        }
        return ImageDataset(channels: data.channels, height: size.height, width: size.width, values: values, source: data.source)
    }

    public static func load(_ spec: String) throws -> ImageDataset {
        if spec == "digits" { return try digits() }
        if spec.hasPrefix("cifar10:") { return try CIFAR10.load(folder: String(spec.dropFirst("cifar10:".count))) }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: spec, isDirectory: &isDir), isDir.boolValue {
            return try PNGFolder.load(spec, options: DataOptions())
        }
        if spec.lowercased().hasSuffix(".npy") {
            let a = try NumpyArray.read(spec)
            return try fromArray(a.values, shape: a.shape, isUInt8: a.kind == .u8, source: spec)
        }
        var path = spec, tensorName: String?
        if !FileManager.default.fileExists(atPath: spec), let colon = spec.lastIndex(of: ":") {
            path = String(spec[..<colon]); tensorName = String(spec[spec.index(after: colon)...])
        }
        return try checkpointTensor(path, tensorName: tensorName)
    }

    /// Where the bundled digits file is: $TVTOOL_DIGITS, else fixtures/trainer/digits.npy in the
    /// current directory's repository or in the source checkout this binary was built from.
    public static func digitsPath() -> String? {
        if let env = ProcessInfo.processInfo.environment["TVTOOL_DIGITS"] { return env }
        let rel = "fixtures/trainer/digits.npy"
        var candidates = [FileManager.default.currentDirectoryPath + "/" + rel]
        let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(sourceRoot.appendingPathComponent(rel).path)
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// The 1,797 UCI digits (see fixtures/trainer/make.py for source and license), v/16·2-1.
    public static func digits() throws -> ImageDataset {
        guard let path = digitsPath() else {
            throw TrainerError.badData(source: "digits", reason: "cannot find fixtures/trainer/digits.npy (run from the repository or set TVTOOL_DIGITS)")
        }
        let a = try NumpyArray.read(path)
        guard a.shape == [1797, 8, 8], a.kind == .u8 else {
            throw TrainerError.badData(source: path, reason: "expected uint8 [1797, 8, 8], found \(a.kind.rawValue) \(a.shape)")
        }
        return ImageDataset(channels: 1, height: 8, width: 8, values: a.values.map { Float($0 / 16 * 2 - 1) }, source: "digits")
    }

    static func checkpointTensor(_ path: String, tensorName: String?) throws -> ImageDataset {
        let reader = try Checkpoints.open(path)
        let name: String
        if let tensorName { name = tensorName } else if reader.tensors.count == 1 { name = reader.tensors[0].name } else {
            throw TrainerError.badData(source: path, reason: "holds \(reader.tensors.count) tensors; pick one with \(path):NAME")
        }
        guard let info = reader.info(named: name) else { throw StorageError.tensorNotFound(path: path, tensor: name) }
        let t = try reader.tensor(named: name)
        let values: [Double]
        if info.dtype == .u8 {
            values = t.withUnsafeBytes { $0.map { Double($0) } }
        } else if info.dtype.supportsArithmetic {
            values = try t.doubles()
        } else {
            throw TrainerError.badData(source: path, reason: "tensor '\(name)' has dtype \(info.dtype.rawValue); expected U8 or a float type")
        }
        return try fromArray(values, shape: info.shape, isUInt8: info.dtype == .u8, source: "\(path):\(name)")
    }

    static func fromArray(_ values: [Double], shape: [Int], isUInt8: Bool, source: String) throws -> ImageDataset {
        let c: Int, h: Int, w: Int
        switch shape.count {
        case 4: (c, h, w) = (shape[1], shape[2], shape[3])
        case 3: (c, h, w) = (1, shape[1], shape[2])
        case 2:
            let side = Int(Double(shape[1]).squareRoot().rounded())
            (c, h, w) = side * side == shape[1] ? (1, side, side) : (1, 1, shape[1])
        default: throw TrainerError.badData(source: source, reason: "expected N×C×H×W, N×H×W or N×D data, found shape \(shape)")
        }
        guard shape[0] >= 4, c > 0, h > 0, w > 0 else { throw TrainerError.badData(source: source, reason: "too few or empty images: shape \(shape)") }
        let floats: [Float]
        if isUInt8 {
            floats = values.map { Float($0 / 255 * 2 - 1) }
        } else {
            if let bad = values.first(where: { !$0.isFinite || abs($0) > 1 + 1e-3 }) {
                throw TrainerError.badData(source: source, reason: "float data must be scaled to [-1, 1] (found \(bad))")
            }
            floats = values.map { Float($0) }
        }
        return ImageDataset(channels: c, height: h, width: w, values: floats, source: source)
    }
}

extension ImageDataset {
    /// Row `i` as an 8-bit image (values clamped from [-1, 1]).
    public func rasterImage(_ i: Int) -> RasterImage { ImageDataset.raster(Array(image(i)), channels: channels, height: height, width: width) }

    public static func raster(_ row: [Float], channels c: Int, height h: Int, width w: Int) -> RasterImage {
        let ch = c == 3 ? 3 : 1
        var px = [UInt8](repeating: 0, count: h * w * ch)
        for p in 0..<(h * w) {
            for k in 0..<ch {
                let v = (row[k * h * w + p] + 1) / 2 * 255
                px[p * ch + k] = UInt8(max(0, min(255, v.rounded())))
            }
        }
        return RasterImage(width: w, height: h, channels: ch, pixels: px)
    }
}

import Foundation
import TVImage
import TVStorage

/// Writing generated samples: a PNG grid for looking at, raw values (.npy or .safetensors) for tools.
public enum SampleOutput {
    /// Tiles samples ([n, C·H·W] in [-1, 1]) into a grid, upscaled `scale`× (nearest neighbour).
    public static func grid(_ samples: [Float], config c: ModelConfig, columns: Int? = nil, scale: Int = 4) -> RasterImage {
        let D = c.dataDimension, n = samples.count / D
        let images = (0..<n).map { i in
            ImageDataset.raster(Array(samples[(i * D)..<((i + 1) * D)]), channels: c.channels, height: c.height, width: c.width).scaled(by: scale)
        }
        let cols = columns ?? Int(Double(n).squareRoot().rounded(.up))
        return RasterImage.grid(images, columns: max(1, cols), padding: max(1, scale / 2))
    }

    public static func writeGrid(_ samples: [Float], config: ModelConfig, to path: String, columns: Int? = nil, scale: Int = 4) throws {
        // Through AtomicFile (not PNGEncoder.write): an interrupt removes the temporary file.
        try AtomicFile.write(Data(PNGEncoder.encode(grid(samples, config: config, columns: columns, scale: scale))), to: path)
    }

    /// Raw samples as [n, C, H, W] Float32: `.npy` or `.safetensors` (tensor "samples").
    public static func writeRaw(_ samples: [Float], config c: ModelConfig, to path: String, metadata: [String: String] = [:]) throws {
        let shape = [samples.count / c.dataDimension, c.channels, c.height, c.width]
        if path.lowercased().hasSuffix(".npy") {
            try NumpyArray.writeFloat32(samples, shape: shape, to: path)
            return
        }
        let t = try Tensor.fromFloats(samples, shape: shape)
        let w = try Checkpoints.create(path, tensors: [t.info(name: "samples")], metadata: metadata)
        do { try w.write(t, named: "samples"); try w.finish() } catch { w.abort(); throw error }
    }
}

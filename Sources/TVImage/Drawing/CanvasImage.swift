extension Canvas {
    /// The canvas as an RGB `RasterImage` (for `PNGEncoder`).
    public var rasterImage: RasterImage { RasterImage(width: width, height: height, channels: 3, pixels: pixels) }
}

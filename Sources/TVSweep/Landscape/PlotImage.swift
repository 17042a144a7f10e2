import TVImage

/// Encodes plots for writing.
enum PlotImage {
    static func png(_ c: Canvas) -> [UInt8] { PNGEncoder.encode(c.rasterImage) }
}

/// An 8-bit RGB colour.
public struct RGB: Sendable, Hashable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }

    public static let black = RGB(0, 0, 0)
    public static let white = RGB(255, 255, 255)
    public static let gray = RGB(128, 128, 128)
    public static let lightGray = RGB(200, 200, 200)
    public static let red = RGB(220, 30, 30)
}

/// A small RGB raster for plots: pixels, lines, rectangles, markers and bitmap text. Drawing
/// outside the canvas is clipped, never an error. Row-major, 3 bytes per pixel, top row first
/// (the layout a PNG encoder takes).
public struct Canvas: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, background: RGB = .white) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        pixels = [UInt8](repeating: 0, count: self.width * self.height * 3)
        fill(x: 0, y: 0, width: width, height: height, background)
    }

    public func pixel(x: Int, y: Int) -> RGB? {
        guard x >= 0, y >= 0, x < width, y < height else { return nil }
        let i = (y * width + x) * 3
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    public mutating func set(x: Int, y: Int, _ c: RGB) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = c.r; pixels[i + 1] = c.g; pixels[i + 2] = c.b
    }

    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ c: RGB) {
        for yy in max(y, 0)..<max(min(y + h, height), max(y, 0)) {
            for xx in max(x, 0)..<max(min(x + w, width), max(x, 0)) { set(x: xx, y: yy, c) }
        }
    }

    /// Outline of a rectangle, 1 px.
    public mutating func frame(x: Int, y: Int, width w: Int, height h: Int, _ c: RGB) {
        line(x, y, x + w - 1, y, c); line(x, y + h - 1, x + w - 1, y + h - 1, c)
        line(x, y, x, y + h - 1, c); line(x + w - 1, y, x + w - 1, y + h - 1, c)
    }

    /// A 1-px line between integer points (Bresenham).
    public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: RGB) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        while true {
            set(x: x, y: y, c)
            if x == x1 && y == y1 { return }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// A line between real-valued points (rounded), optionally `thickness` pixels wide.
    public mutating func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ c: RGB, thickness: Int = 1) {
        guard x0.isFinite, y0.isFinite, x1.isFinite, y1.isFinite else { return }
        let r = thickness / 2
        for ox in -r...(thickness - 1 - r) {
            for oy in -r...(thickness - 1 - r) {
                line(Int(x0.rounded()) + ox, Int(y0.rounded()) + oy, Int(x1.rounded()) + ox, Int(y1.rounded()) + oy, c)
            }
        }
    }

    /// Filled disc of radius `r` centred at (cx, cy).
    public mutating func disc(cx: Int, cy: Int, r: Int, _ c: RGB) {
        guard r >= 0 else { return }
        for y in -r...r { for x in -r...r where x * x + y * y <= r * r { set(x: cx + x, y: cy + y, c) } }
    }
}

/// Hatching: the fill for plot areas that have no value (a failed evaluation), so they read as
/// "no data" rather than as a colour on the scale.
public enum Hatching {
    public static let background = RGB(215, 215, 215)
    public static let stroke = RGB(110, 110, 110)

    /// The hatch colour at canvas pixel (x, y): diagonal lines every `period` pixels, anchored to
    /// the canvas so neighbouring hatched areas join up.
    public static func color(x: Int, y: Int, period: Int = 6) -> RGB {
        ((x + y) % period + period) % period == 0 ? stroke : background
    }
}

extension Canvas {
    /// Fills a rectangle with the hatch pattern.
    public mutating func hatch(x: Int, y: Int, width w: Int, height h: Int) {
        for yy in y..<(y + max(h, 0)) {
            for xx in x..<(x + max(w, 0)) { set(x: xx, y: yy, Hatching.color(x: xx, y: yy)) }
        }
    }
}

/// Marker shapes for points on plots, drawn filled with a contrasting outline so they stay
/// visible on any colour.
public enum MarkerShape: String, Sendable, CaseIterable {
    case circle, square, triangle, diamond, star

    /// The shapes in the order plots assign them to series.
    public static let cycle: [MarkerShape] = [.circle, .triangle, .square, .diamond]
}

extension Canvas {
    /// Draws `shape` centred at (cx, cy), `size` pixels across.
    public mutating func marker(_ shape: MarkerShape, cx: Int, cy: Int, size: Int = 11, fill: RGB, outline: RGB = .black) {
        let r = size / 2
        func inside(_ x: Int, _ y: Int, _ rr: Int) -> Bool {
            switch shape {
            case .circle: return x * x + y * y <= rr * rr
            case .square: return abs(x) <= rr && abs(y) <= rr
            case .diamond: return abs(x) + abs(y) <= rr
            case .triangle: return y <= rr && y >= -rr && 2 * abs(x) <= (y + rr)
            case .star:
                // A plus and a cross, 3 px thick.
                return (abs(x) <= rr && abs(y) <= 1) || (abs(y) <= rr && abs(x) <= 1) || (abs(x) <= rr && abs(abs(x) - abs(y)) <= 1)
            }
        }
        for y in -(r + 1)...(r + 1) {
            for x in -(r + 1)...(r + 1) {
                if inside(x, y, r) {
                    // Outline: any neighbour outside the shape.
                    let edge = !inside(x - 1, y, r) || !inside(x + 1, y, r) || !inside(x, y - 1, r) || !inside(x, y + 1, r)
                    set(x: cx + x, y: cy + y, edge ? outline : fill)
                }
            }
        }
    }
}

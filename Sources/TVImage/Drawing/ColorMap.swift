/// Perceptually uniform colour maps sampled from anchor colours with linear interpolation.
public struct ColorMap: Sendable {
    public let name: String
    let anchors: [RGB]

    /// matplotlib's viridis at nine evenly spaced positions (dark purple → yellow).
    public static let viridis = ColorMap(name: "viridis", anchors: [
        RGB(68, 1, 84), RGB(71, 44, 122), RGB(59, 81, 139), RGB(44, 113, 142), RGB(33, 144, 141),
        RGB(39, 173, 129), RGB(92, 200, 99), RGB(170, 220, 50), RGB(253, 231, 37),
    ])

    /// The colour at `t` in [0, 1] (clamped; NaN gives gray).
    public func color(at t: Double) -> RGB {
        guard t.isFinite else { return .gray }
        let u = min(max(t, 0), 1) * Double(anchors.count - 1)
        let i = min(Int(u), anchors.count - 2)
        let f = u - Double(i)
        let a = anchors[i], b = anchors[i + 1]
        func mix(_ p: UInt8, _ q: UInt8) -> UInt8 { UInt8((Double(p) + (Double(q) - Double(p)) * f).rounded()) }
        return RGB(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
    }
}

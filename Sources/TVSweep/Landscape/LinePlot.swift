import Foundation
import TVImage

/// Draws a one-dimensional landscape (a line through checkpoints) as a line plot: the score
/// against t with axis ticks and titles, a dot per evaluated point, hatched bands where points
/// failed (no made-up value), a dashed vertical line and marker per checkpoint, the best point
/// as a red star and a legend. The y range comes from the finite values only.
public enum LinePlot {
    static let plotX = 90, plotY = 50, plotW = 560, plotH = 420
    static let legendX = 665
    public static let width = 840, height = 560
    static let curve = RGB(31, 119, 180)

    public static func render(_ s: LandscapeSurface, scale requested: LandscapePlot.Scale = .linear, title: String? = nil) -> Canvas {
        var c = Canvas(width: width, height: height)
        let ts = s.xs, vals = s.values.map { $0.first ?? .nan }
        let finite = vals.filter(\.isFinite)
        let scale: LandscapePlot.Scale = requested == .log && (finite.min() ?? 0) > 0 ? .log : .linear
        func f(_ v: Double) -> Double { scale == .log ? log10(v) : v }
        let tr = (ts.min() ?? 0, ts.max() ?? 1), tSpan = tr.1 > tr.0 ? tr.1 - tr.0 : 1
        var lo = finite.map(f).min() ?? 0, hi = finite.map(f).max() ?? 1
        if hi <= lo { lo -= 0.5; hi += 0.5 }
        let pad = (hi - lo) * 0.06
        lo -= pad; hi += pad
        func px(_ t: Double) -> Double { Double(plotX) + (t - tr.0) / tSpan * Double(plotW - 1) }
        func py(_ v: Double) -> Double { Double(plotY + plotH - 1) - (f(v) - lo) / (hi - lo) * Double(plotH - 1) }
        func clampX(_ t: Double) -> Int { min(max(Int(px(t).rounded()), plotX + 3), plotX + plotW - 4) }

        // Failed points: a hatched band reaching halfway to each neighbour.
        for (i, t) in ts.enumerated() where s.isFailed(i, 0) {
            let left = i > 0 ? (ts[i - 1] + t) / 2 : t, right = i + 1 < ts.count ? (t + ts[i + 1]) / 2 : t
            let x0 = max(Int(px(left).rounded()), plotX), x1 = min(max(Int(px(right).rounded()), x0 + 3), plotX + plotW)
            c.hatch(x: x0, y: plotY, width: x1 - x0, height: plotH)
        }
        // Grid lines and ticks.
        let yTicks = LandscapePlot.niceTicks(lo, hi)
        for v in yTicks {
            let y = Int((Double(plotY + plotH - 1) - (v - lo) / (hi - lo) * Double(plotH - 1)).rounded())
            for x in stride(from: plotX, to: plotX + plotW, by: 4) { c.set(x: x, y: y, .lightGray) }
            c.line(plotX - 6, y, plotX - 1, y, .black)
            let label = LandscapePlot.short(scale == .log ? pow(10, v) : v)
            c.text(label, x: plotX - 9 - BitmapFont.width(label, scale: 2), y: y - 7, scale: 2)
        }
        for v in LandscapePlot.niceTicks(tr.0, tr.1) {
            let x = Int(px(v).rounded())
            c.line(x, plotY + plotH, x, plotY + plotH + 5, .black)
            let label = LandscapePlot.short(v)
            c.text(label, x: x - BitmapFont.width(label, scale: 2) / 2, y: plotY + plotH + 8, scale: 2)
        }
        // Checkpoints: dashed vertical lines at t = k.
        let off = Set(s.offGridMarkers.map(\.label))
        for m in s.markers where !off.contains(m.label) {
            let x = Int(px(m.x).rounded())
            for y in stride(from: plotY, to: plotY + plotH, by: 6) { c.line(x, y, x, y + 2, .gray) }
        }
        // The curve, broken where a point has no value.
        for i in 1..<max(ts.count, 1) where vals[i - 1].isFinite && vals[i].isFinite {
            c.line(px(ts[i - 1]), py(vals[i - 1]), px(ts[i]), py(vals[i]), curve, thickness: 2)
        }
        for (i, t) in ts.enumerated() where vals[i].isFinite {
            c.disc(cx: Int(px(t).rounded()), cy: Int(py(vals[i]).rounded()), r: 3, curve)
        }
        c.frame(x: plotX - 1, y: plotY - 1, width: plotW + 2, height: plotH + 2, .black)

        // Checkpoint markers on the curve (at the bottom edge where it has no value there).
        var legend: [(MarkerShape, RGB, String)] = []
        let star = s.best.flatMap { b in s.bestValue.map { (clampX(b.x), Int(py($0).rounded())) } }
        for (k, m) in s.markers.enumerated() {
            let shape = MarkerShape.cycle[k % MarkerShape.cycle.count]
            let v = interpolate(ts, vals, m.x)
            let y = v.isFinite && !off.contains(m.label) ? Int(py(v).rounded()) : plotY + plotH - 8
            let fill: RGB = off.contains(m.label) ? .gray : .white
            let (cx, cy) = (clampX(m.x), min(max(y, plotY + 3), plotY + plotH - 4))
            c.marker(shape, cx: cx, cy: cy, size: LandscapePlot.markerSize(cx, cy, star: star), fill: fill)
            legend.append((shape, fill, off.contains(m.label) ? "\(m.label) OFF GRID (T=\(LandscapePlot.short(m.x)))" : "\(m.label) (T=\(LandscapePlot.short(m.x)))"))
        }
        if let b = s.best, let v = s.bestValue {
            c.marker(.star, cx: clampX(b.x), cy: Int(py(v).rounded()), size: 15, fill: .red, outline: .black)
            legend.append((.star, .red, "best " + LandscapePlot.short(v)))
        }
        if finite.isEmpty { c.text("NO FINITE VALUES", x: plotX + 10, y: plotY + 10, scale: 2) }

        LandscapePlot.drawTitle(&c, title ?? "\(s.scoreLabel) along a line")
        let sub = s.axisDescriptions.first ?? ""
        c.text(sub, x: plotX, y: 34, scale: 1)
        c.text(s.axisNames.first ?? "t", x: plotX + plotW / 2 - 6, y: plotY + plotH + 30, scale: 2)
        let yTitle = s.scoreLabel + (scale == .log ? " (log scale)" : "")
        let ys = BitmapFont.width(yTitle, scale: 2) <= plotH ? 2 : 1
        c.verticalText(yTitle, x: 4, y: plotY + plotH / 2 + BitmapFont.width(yTitle, scale: ys) / 2, scale: ys)
        LandscapePlot.drawLegend(&c, legend, failed: s.failedCount, missing: vals.count - finite.count - s.failedCount)
        return c
    }

    /// Linear interpolation of the finite neighbours at t; NaN outside or next to a missing value.
    static func interpolate(_ ts: [Double], _ vals: [Double], _ t: Double) -> Double {
        guard let (k, w) = LandscapePlot.cell(ts, t) else { return .nan }
        let k1 = min(k + 1, ts.count - 1)
        if w == 0 { return vals[k] }
        if w == 1 { return vals[k1] }
        return vals[k] * (1 - w) + vals[k1] * w
    }
}

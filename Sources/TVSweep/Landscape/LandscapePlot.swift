import Foundation
import TVImage

/// Draws a landscape as a heatmap (viridis, bilinear between grid points) with contour lines,
/// markers for the input models and the best point, axis ticks and titles, a colour bar and a
/// marker legend.
public enum LandscapePlot {
    public enum Scale: String, Sendable, CaseIterable { case linear, log }

    static let plotX = 80, plotY = 44, plotSize = 440
    static let barX = 545, barWidth = 18
    static let legendX = 665
    public static let width = 840, height = 560

    public static func render(_ s: LandscapeSurface, scale requested: Scale = .linear, contours: Int = 10, title: String? = nil) -> Canvas {
        var c = Canvas(width: width, height: height)
        let finite = s.finiteValues
        // Log scale needs positive values; fall back to linear otherwise.
        let scale: Scale = requested == .log && (finite.min() ?? 0) > 0 ? .log : .linear
        func t(_ v: Double) -> Double { scale == .log ? log10(v) : v }
        let lo = finite.map(t).min() ?? 0, hi = finite.map(t).max() ?? 1
        let span = hi > lo ? hi - lo : 1
        let xr = (s.xs.min() ?? 0, s.xs.max() ?? 1), yr = (s.ys.min() ?? 0, s.ys.max() ?? 1)
        let xSpan = xr.1 > xr.0 ? xr.1 - xr.0 : 1, ySpan = yr.1 > yr.0 ? yr.1 - yr.0 : 1
        func px(_ x: Double) -> Double { Double(plotX) + (x - xr.0) / xSpan * Double(plotSize - 1) }
        func py(_ y: Double) -> Double { Double(plotY + plotSize - 1) - (y - yr.0) / ySpan * Double(plotSize - 1) }

        // Heatmap.
        let tv = s.values.map { $0.map(t) }
        for yy in 0..<plotSize {
            let y = yr.0 + Double(plotSize - 1 - yy) / Double(plotSize - 1) * ySpan
            for xx in 0..<plotSize {
                let x = xr.0 + Double(xx) / Double(plotSize - 1) * xSpan
                let v = bilinear(tv, s.xs, s.ys, x, y)
                c.set(x: plotX + xx, y: plotY + yy, v.isFinite ? ColorMap.viridis.color(at: (v - lo) / span) : .lightGray)
            }
        }
        // Contours at evenly spaced levels (in the colour scale's units).
        if contours > 0 && hi > lo {
            for k in 1...contours {
                let level = lo + span * Double(k) / Double(contours + 1)
                for seg in Contours.segments(tv, level: level) {
                    c.line(px(coord(s.xs, seg.i0)), py(coord(s.ys, seg.j0)), px(coord(s.xs, seg.i1)), py(coord(s.ys, seg.j1)), .white)
                }
            }
        }
        c.frame(x: plotX - 1, y: plotY - 1, width: plotSize + 2, height: plotSize + 2, .black)
        drawTicks(&c, xr: xr, yr: yr, px: px, py: py)
        c.text(s.axisNames.first ?? "x", x: plotX + plotSize / 2 - 6, y: plotY + plotSize + 30, scale: 2)
        // Short axis names (x, b, w2) read best upright; long ones are drawn along the axis.
        let yName = s.axisNames.last ?? "y"
        if yName.count <= 2 {
            c.text(yName, x: 6, y: plotY + plotSize / 2 - 7, scale: 2)
        } else {
            c.verticalText(yName, x: 6, y: plotY + plotSize / 2 + BitmapFont.width(yName, scale: 2) / 2, scale: 2)
        }
        c.text(title ?? "\(s.valueName) over the \(s.basis) plane", x: plotX, y: 12, scale: 2)

        // Markers: inputs, then the best point.
        var legend: [(MarkerShape, RGB, String)] = []
        var hidden: [String] = []
        for (k, m) in s.markers.enumerated() {
            let shape = MarkerShape.cycle[k % MarkerShape.cycle.count]
            guard m.x >= xr.0 - 1e-9, m.x <= xr.1 + 1e-9, m.y >= yr.0 - 1e-9, m.y <= yr.1 + 1e-9 else {
                hidden.append(m.label)
                continue
            }
            c.marker(shape, cx: Int(px(m.x).rounded()), cy: Int(py(m.y).rounded()), size: 13, fill: .white)
            legend.append((shape, .white, m.label))
        }
        if let b = s.best, let v = s.bestValue {
            c.marker(.star, cx: Int(px(b.x).rounded()), cy: Int(py(b.y).rounded()), size: 15, fill: .red, outline: .black)
            legend.append((.star, .red, "best " + short(v)))
        }
        drawColorBar(&c, lo: lo, hi: hi, scale: scale)
        for (k, item) in legend.enumerated() {
            let y = plotY + 10 + k * 26
            c.marker(item.0, cx: legendX + 6, cy: y + 6, size: 13, fill: item.1)
            c.text(item.2, x: legendX + 20, y: y, scale: 2)
        }
        if !hidden.isEmpty {
            c.text("OFF GRID: " + hidden.joined(separator: ","), x: legendX, y: plotY + 10 + legend.count * 26, scale: 1)
        }
        return c
    }

    /// Value at (x, y) by bilinear interpolation on the (possibly non-uniform) grid; NaN outside.
    static func bilinear(_ v: [[Double]], _ xs: [Double], _ ys: [Double], _ x: Double, _ y: Double) -> Double {
        guard let (i, fx) = cell(xs, x), let (j, fy) = cell(ys, y) else { return .nan }
        let i1 = min(i + 1, xs.count - 1), j1 = min(j + 1, ys.count - 1)
        let a = v[i][j] * (1 - fx) + v[i1][j] * fx
        let b = v[i][j1] * (1 - fx) + v[i1][j1] * fx
        return a * (1 - fy) + b * fy
    }

    /// The cell containing `x` in sorted `axis` and the fraction across it.
    static func cell(_ axis: [Double], _ x: Double) -> (Int, Double)? {
        guard let first = axis.first, let last = axis.last, x >= first - 1e-12, x <= last + 1e-12 else { return nil }
        if axis.count == 1 { return (0, 0) }
        var k = 0
        while k < axis.count - 2 && x > axis[k + 1] { k += 1 }
        let w = axis[k + 1] - axis[k]
        return (k, w > 0 ? min(max((x - axis[k]) / w, 0), 1) : 0)
    }

    /// Grid-index coordinate → axis coordinate (linear within a cell).
    static func coord(_ axis: [Double], _ u: Double) -> Double {
        let k = min(max(Int(u.rounded(.down)), 0), axis.count - 1)
        let k1 = min(k + 1, axis.count - 1)
        return axis[k] + (u - Double(k)) * (axis[k1] - axis[k])
    }

    static func drawTicks(_ c: inout Canvas, xr: (Double, Double), yr: (Double, Double), px: (Double) -> Double, py: (Double) -> Double) {
        for v in niceTicks(xr.0, xr.1) {
            let x = Int(px(v).rounded())
            c.line(x, plotY + plotSize, x, plotY + plotSize + 5, .black)
            let label = short(v)
            c.text(label, x: x - BitmapFont.width(label, scale: 2) / 2, y: plotY + plotSize + 8, scale: 2)
        }
        for v in niceTicks(yr.0, yr.1) {
            let y = Int(py(v).rounded())
            c.line(plotX - 6, y, plotX - 1, y, .black)
            let label = short(v)
            c.text(label, x: plotX - 9 - BitmapFont.width(label, scale: 2), y: y - 7, scale: 2)
        }
    }

    static func drawColorBar(_ c: inout Canvas, lo: Double, hi: Double, scale: Scale) {
        for yy in 0..<plotSize {
            let f = Double(plotSize - 1 - yy) / Double(plotSize - 1)
            c.fill(x: barX, y: plotY + yy, width: barWidth, height: 1, ColorMap.viridis.color(at: f))
        }
        c.frame(x: barX - 1, y: plotY - 1, width: barWidth + 2, height: plotSize + 2, .black)
        for v in niceTicks(lo, hi) {
            let y = plotY + plotSize - 1 - Int(((v - lo) / max(hi - lo, 1e-300) * Double(plotSize - 1)).rounded())
            // Tick inside the bar, so it is not read as a minus sign in front of the label.
            c.line(barX + barWidth - 5, y, barX + barWidth - 1, y, .black)
            c.text(short(scale == .log ? pow(10, v) : v), x: barX + barWidth + 6, y: y - 7, scale: 2)
        }
        if scale == .log { c.text("LOG", x: barX, y: plotY + plotSize + 8, scale: 2) }
    }

    /// About five round tick values inside [lo, hi].
    static func niceTicks(_ lo: Double, _ hi: Double) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return lo.isFinite ? [lo] : [] }
        let raw = (hi - lo) / 5
        let mag = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var v = (lo / step).rounded(.up) * step
        var out: [Double] = []
        while v <= hi + step * 1e-9 { out.append(GridNumber.clean(v, scale: step)); v += step }
        return out
    }

    static func short(_ v: Double) -> String { String(format: "%.4g", v) }
}

import Foundation
import TVImage

/// Draws a landscape as a heatmap (viridis, bilinear between grid points) with contour lines,
/// markers for the input models and the best point, axis ticks and titles, a titled colour bar
/// (scaled to the finite values only), hatched areas for failed points and a marker legend.
public enum LandscapePlot {
    public enum Scale: String, Sendable, CaseIterable { case linear, log }

    static let plotX = 80, plotY = 44, plotSize = 440
    static let barX = 545, barWidth = 18
    static let legendX = 665
    public static let width = 840, height = 560

    public static func render(_ s: LandscapeSurface, scale requested: Scale = .linear, contours: Int = 10, title: String? = nil) -> Canvas {
        var c = Canvas(width: width, height: height)
        // The colour scale comes from finite values only; with none there is no scale to draw.
        let finite = s.finiteValues
        let scale: Scale = requested == .log && (finite.min() ?? 0) > 0 ? .log : .linear
        func t(_ v: Double) -> Double { scale == .log ? log10(v) : v }
        let range: (lo: Double, hi: Double)? = finite.isEmpty ? nil : (finite.map(t).min()!, finite.map(t).max()!)
        let xr = (s.xs.min() ?? 0, s.xs.max() ?? 1), yr = (s.ys.min() ?? 0, s.ys.max() ?? 1)
        let xSpan = xr.1 > xr.0 ? xr.1 - xr.0 : 1, ySpan = yr.1 > yr.0 ? yr.1 - yr.0 : 1
        func px(_ x: Double) -> Double { Double(plotX) + (x - xr.0) / xSpan * Double(plotSize - 1) }
        func py(_ y: Double) -> Double { Double(plotY + plotSize - 1) - (y - yr.0) / ySpan * Double(plotSize - 1) }

        // Heatmap: bilinear where all four corners have values, the nearest point's value next to a
        // missing one; failed points' areas hatched, not-yet-evaluated ones plain grey.
        let tv = s.values.map { $0.map(t) }
        for yy in 0..<plotSize {
            let y = yr.0 + Double(plotSize - 1 - yy) / Double(plotSize - 1) * ySpan
            for xx in 0..<plotSize {
                let x = xr.0 + Double(xx) / Double(plotSize - 1) * xSpan
                let (ni, nj) = (nearest(s.xs, x), nearest(s.ys, y))
                if s.isFailed(ni, nj) {
                    c.set(x: plotX + xx, y: plotY + yy, Hatching.color(x: plotX + xx, y: plotY + yy))
                    continue
                }
                var v = bilinear(tv, s.xs, s.ys, x, y)
                if !v.isFinite { v = tv[ni][nj] }
                if let r = range, v.isFinite {
                    c.set(x: plotX + xx, y: plotY + yy, ColorMap.viridis.color(at: r.hi > r.lo ? (v - r.lo) / (r.hi - r.lo) : 0.5))
                } else {
                    c.set(x: plotX + xx, y: plotY + yy, .lightGray)
                }
            }
        }
        // Contours at evenly spaced levels (in the colour scale's units).
        if contours > 0, let r = range, r.hi > r.lo {
            for k in 1...contours {
                let level = r.lo + (r.hi - r.lo) * Double(k) / Double(contours + 1)
                for seg in Contours.segments(tv, level: level) {
                    c.line(px(coord(s.xs, seg.i0)), py(coord(s.ys, seg.j0)), px(coord(s.xs, seg.i1)), py(coord(s.ys, seg.j1)), .white)
                }
            }
        }
        // Evaluated points: a dot in the point's own colour (a cross when it failed), so a search's
        // path shows where the heatmap's values come from.
        for p in s.points {
            let cx = Int(px(p.x).rounded()), cy = Int(py(p.y).rounded())
            if let v = p.value, v.isFinite, let r = range {
                c.marker(.diamond, cx: cx, cy: cy, size: 9, fill: ColorMap.viridis.color(at: r.hi > r.lo ? (t(v) - r.lo) / (r.hi - r.lo) : 0.5))
            } else {
                c.line(cx - 3, cy - 3, cx + 3, cy + 3, .black)
                c.line(cx - 3, cy + 3, cx + 3, cy - 3, .black)
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
        drawTitle(&c, title ?? "\(s.scoreLabel) over the \(s.basis) plane")

        // Markers last, so contours never cover them; a checkpoint outside the grid is drawn grey
        // at the nearest point of the frame and listed as off grid.
        var legend: [(MarkerShape, RGB, String)] = []
        func clampX(_ x: Double) -> Int { min(max(Int(px(x).rounded()), plotX + 3), plotX + plotSize - 4) }
        func clampY(_ y: Double) -> Int { min(max(Int(py(y).rounded()), plotY + 3), plotY + plotSize - 4) }
        let off = Set(s.offGridMarkers.map(\.label))
        let star = s.bestValue == nil ? nil : s.best.map { (clampX($0.x), clampY($0.y)) }
        for (k, m) in s.markers.enumerated() {
            let shape = MarkerShape.cycle[k % MarkerShape.cycle.count]
            let fill: RGB = off.contains(m.label) ? .gray : .white
            let (cx, cy) = (clampX(m.x), clampY(m.y))
            c.marker(shape, cx: cx, cy: cy, size: markerSize(cx, cy, star: star), fill: fill)
            legend.append((shape, fill, off.contains(m.label) ? "\(m.label) OFF GRID (\(short(m.x)),\(short(m.y)))" : m.label))
        }
        if let b = s.best, let v = s.bestValue {
            c.marker(.star, cx: clampX(b.x), cy: clampY(b.y), size: 15, fill: .red, outline: .black)
            legend.append((.star, .red, "best " + short(v)))
        }
        if let r = range {
            drawColorBar(&c, lo: r.lo, hi: r.hi, scale: scale)
        } else {
            c.hatch(x: barX, y: plotY, width: barWidth, height: plotSize)
            c.frame(x: barX - 1, y: plotY - 1, width: barWidth + 2, height: plotSize + 2, .black)
            c.text("NO FINITE VALUES", x: barX + barWidth + 6, y: plotY, scale: 1)
        }
        drawColorBarLabel(&c, s.scoreLabel + (scale == .log ? " (log scale)" : ""))
        drawLegend(&c, legend, failed: s.failedCount, missing: s.values.joined().count - finite.count - s.failedCount,
                   missingLabel: s.missingLabel, dots: !s.points.isEmpty)
        return c
    }

    /// The title, shrunk to the small font when it would not fit at scale 2.
    static func drawTitle(_ c: inout Canvas, _ title: String) {
        let big = BitmapFont.width(title, scale: 2) <= width - plotX - 10
        c.text(title, x: plotX, y: big ? 12 : 18, scale: big ? 2 : 1)
    }

    /// The colour bar's title, along its left side (between the heatmap and the bar).
    static func drawColorBarLabel(_ c: inout Canvas, _ label: String) {
        let sc = BitmapFont.width(label, scale: 2) <= plotSize ? 2 : 1
        let w = BitmapFont.width(label, scale: sc)
        c.verticalText(label, x: barX - 8 - 7 * sc, y: plotY + plotSize / 2 + w / 2, scale: sc)
    }

    static func drawLegend(_ c: inout Canvas, _ items: [(MarkerShape, RGB, String)], failed: Int, missing: Int,
                           missingLabel: String = "MISSING", dots: Bool = false) {
        var y = plotY + 10
        var items = items
        if dots { items.append((.diamond, .lightGray, "evaluated point")) }
        for item in items {
            let sc = BitmapFont.width(item.2, scale: 2) <= width - legendX - 22 ? 2 : 1
            c.marker(item.0, cx: legendX + 6, cy: y + 6, size: 13, fill: item.1)
            c.text(item.2, x: legendX + 20, y: y + (sc == 1 ? 3 : 0), scale: sc)
            y += 26
        }
        if failed > 0 {
            c.hatch(x: legendX, y: y, width: 13, height: 13)
            c.frame(x: legendX, y: y, width: 13, height: 13, .black)
            c.text("FAILED \(failed)", x: legendX + 20, y: y, scale: 2)
            y += 26
        }
        if missing > 0 {
            c.fill(x: legendX, y: y, width: 13, height: 13, .lightGray)
            c.frame(x: legendX, y: y, width: 13, height: 13, .black)
            c.text("\(missingLabel) \(missing)", x: legendX + 20, y: y, scale: BitmapFont.width("\(missingLabel) \(missing)", scale: 2) <= width - legendX - 22 ? 2 : 1)
        }
    }

    /// Index of the grid value nearest to `x`.
    static func nearest(_ axis: [Double], _ x: Double) -> Int {
        var best = 0
        for (k, a) in axis.enumerated() where abs(a - x) < abs(axis[best] - x) { best = k }
        return best
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

    /// Size of a checkpoint marker: 13 px, or 23 px where the best point's 15-px star lands on it
    /// (the best is often a checkpoint, e.g. the base), so the marker rings the star instead of
    /// vanishing under it.
    static func markerSize(_ cx: Int, _ cy: Int, star: (Int, Int)?) -> Int {
        guard let (sx, sy) = star, abs(cx - sx) <= 10, abs(cy - sy) <= 10 else { return 13 }
        return 23
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

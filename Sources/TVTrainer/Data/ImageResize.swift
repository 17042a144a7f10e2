/// Resizing for data loading: the shorter side scaled to the target with Pillow's BILINEAR
/// filter (a triangle filter whose support widens with the downscale factor, i.e. antialiased,
/// coefficients as Pillow's Resample.c computes them), then a centre crop — what diffusers'
/// DDPM training does with `transforms.Resize(size, BILINEAR)` + `transforms.CenterCrop(size)`.
/// Images are planar C×H×W floats; computed in Float (Pillow rounds 8-bit images after each
/// pass, so results agree to within about one 8-bit level).
public enum ImageResize {
    /// Resizes so the image covers `height`×`width` (aspect kept), then crops the centre.
    public static func coverAndCrop(_ x: [Float], channels c: Int, height h: Int, width w: Int,
                                    toHeight th: Int, width tw: Int) -> [Float] {
        if h == th && w == tw { return x }
        let rh: Int, rw: Int
        if th == tw {
            // torchvision's Resize(S): the shorter side becomes S, the longer int(S · long / short).
            (rh, rw) = h <= w ? (th, Int(Double(th) * Double(w) / Double(h))) : (Int(Double(tw) * Double(h) / Double(w)), tw)
        } else {
            let scale = max(Double(th) / Double(h), Double(tw) / Double(w))
            (rh, rw) = (max(th, Int(Double(h) * scale)), max(tw, Int(Double(w) * scale)))
        }
        let resized = resample(x, channels: c, height: h, width: w, toHeight: rh, width: rw)
        // torchvision's CenterCrop: int(round((size - crop) / 2)), Python's round (halves to even).
        let top = Int((Double(rh - th) / 2).rounded(.toNearestOrEven)), left = Int((Double(rw - tw) / 2).rounded(.toNearestOrEven))
        var out = [Float](repeating: 0, count: c * th * tw)
        for k in 0..<c {
            for y in 0..<th {
                for xx in 0..<tw { out[(k * th + y) * tw + xx] = resized[(k * rh + top + y) * rw + left + xx] }
            }
        }
        return out
    }

    /// Pillow BILINEAR resampling to exactly `th`×`tw`: horizontal pass, then vertical.
    public static func resample(_ x: [Float], channels c: Int, height h: Int, width w: Int,
                                toHeight th: Int, width tw: Int) -> [Float] {
        let cx = coefficients(input: w, output: tw), cy = coefficients(input: h, output: th)
        var mid = [Float](repeating: 0, count: c * h * tw)
        for k in 0..<c {
            for y in 0..<h {
                let row = (k * h + y) * w
                for o in 0..<tw {
                    var s: Float = 0
                    for (j, wt) in cx[o].weights.enumerated() { s += x[row + cx[o].start + j] * wt }
                    mid[(k * h + y) * tw + o] = s
                }
            }
        }
        var out = [Float](repeating: 0, count: c * th * tw)
        for k in 0..<c {
            for o in 0..<th {
                for xx in 0..<tw {
                    var s: Float = 0
                    for (j, wt) in cy[o].weights.enumerated() { s += mid[(k * h + cy[o].start + j) * tw + xx] * wt }
                    out[(k * th + o) * tw + xx] = s
                }
            }
        }
        return out
    }

    /// Pillow's precompute_coeffs for the bilinear (triangle, support 1) filter.
    static func coefficients(input: Int, output: Int) -> [(start: Int, weights: [Float])] {
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = filterScale
        return (0..<output).map { o in
            let center = (Double(o) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), input)
            var w = (lo..<hi).map { i in max(0, 1 - abs((Double(i) - center + 0.5) / filterScale)) }
            let total = w.reduce(0, +)
            if total > 0 { w = w.map { $0 / total } }
            return (lo, w.map(Float.init))
        }
    }
}

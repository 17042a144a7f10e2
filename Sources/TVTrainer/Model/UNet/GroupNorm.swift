import Foundation

/// nn.GroupNorm(groups, C, eps, affine) on a CBHW activation: per sample, the channels of a group
/// and all their pixels share one mean and (biased) variance. The forward pass keeps x̂ and
/// 1/σ per (sample, group) for the backward pass.
struct GroupNorm {
    let channels, groups: Int
    let eps: Float
    let weight, bias: Int

    init(_ l: inout ParameterLayout, _ name: String, channels: Int, groups: Int, eps: Float) {
        self.channels = channels; self.groups = groups; self.eps = eps
        weight = l.add(name + ".weight", [channels]); bias = l.add(name + ".bias", [channels])
    }

    /// The tensors one forward pass keeps.
    final class Saved {
        let xhat, rstd: FloatBuffer
        init(count: Int, groups: Int) { xhat = FloatBuffer(count: count); rstd = FloatBuffer(count: groups) }
    }

    func saved(batch: Int, pixels: Int) -> Saved { Saved(count: channels * batch * pixels, groups: groups * batch) }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, saved s: Saved, pixels: Int, _ c: UNetContext) {
        let B = c.batch, per = channels / groups, n = Double(per * pixels)
        let gamma = c.p + weight, beta = c.p + bias
        for b in 0..<B {
            for g in 0..<groups {
                var total = 0.0
                for ch in g * per..<(g + 1) * per { total += Double(Reduce.sum(x + (ch * B + b) * pixels, pixels)) }
                let mean = Float(total / n)
                var sq = 0.0
                for ch in g * per..<(g + 1) * per {
                    let src = x + (ch * B + b) * pixels
                    var acc = SIMD8<Float>(), i = 0
                    while i + 8 <= pixels {
                        let d = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self) - mean
                        acc += d * d; i += 8
                    }
                    var part = acc.sum()
                    while i < pixels { let d = src[i] - mean; part += d * d; i += 1 }
                    sq += Double(part)
                }
                let rstd = Float(1 / (sq / n + Double(eps)).squareRoot())
                s.rstd[b * groups + g] = rstd
                for ch in g * per..<(g + 1) * per {
                    let o = (ch * B + b) * pixels
                    let src = x + o, xh = s.xhat.pointer + o, dst = y + o, ga = gamma[ch], be = beta[ch]
                    for i in 0..<pixels {
                        let v = (src[i] - mean) * rstd
                        xh[i] = v; dst[i] = v * ga + be
                    }
                }
            }
        }
    }

    /// Overwrites the weight/bias gradients; dx is overwritten, or accumulated into.
    func backward(dy: UnsafePointer<Float>, saved s: Saved, dx: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                  pixels: Int, _ c: UNetContext) {
        let B = c.batch, per = channels / groups, n = Float(per * pixels)
        let gamma = c.p + weight, dGamma = c.g + weight, dBeta = c.g + bias
        dGamma.update(repeating: 0, count: channels); dBeta.update(repeating: 0, count: channels)
        for b in 0..<B {
            for g in 0..<groups {
                var sumD: Float = 0, sumDX: Float = 0
                for ch in g * per..<(g + 1) * per {
                    let o = (ch * B + b) * pixels
                    let sd = Reduce.sum(dy + o, pixels), sdx = Reduce.dot(dy + o, s.xhat.pointer + o, pixels)
                    dBeta[ch] += sd; dGamma[ch] += sdx
                    sumD += gamma[ch] * sd; sumDX += gamma[ch] * sdx
                }
                let rstd = s.rstd[b * groups + g], m1 = sumD / n, m2 = sumDX / n
                for ch in g * per..<(g + 1) * per {
                    let o = (ch * B + b) * pixels
                    let d = dy + o, xh = s.xhat.pointer + o, out = dx + o, ga = gamma[ch]
                    if accumulate {
                        for i in 0..<pixels { out[i] += rstd * (ga * d[i] - m1 - xh[i] * m2) }
                    } else {
                        for i in 0..<pixels { out[i] = rstd * (ga * d[i] - m1 - xh[i] * m2) }
                    }
                }
            }
        }
    }
}

/// GroupNorm followed by SiLU, the pair every ResnetBlock2D and the output head start with.
/// Keeps the normalised tensor (SiLU's input) and the sigmoid for the backward pass.
struct NormSiLU {
    let norm: GroupNorm

    final class Saved {
        let norm: GroupNorm.Saved
        let normed, sigmoid, out: FloatBuffer
        init(_ n: GroupNorm, count: Int, batch: Int, pixels: Int) {
            norm = n.saved(batch: batch, pixels: pixels)
            normed = FloatBuffer(count: count); sigmoid = FloatBuffer(count: count); out = FloatBuffer(count: count)
        }
    }

    func saved(batch: Int, pixels: Int) -> Saved { Saved(norm, count: norm.channels * batch * pixels, batch: batch, pixels: pixels) }

    func forward(_ x: UnsafePointer<Float>, saved s: Saved, pixels: Int, _ c: UNetContext) {
        norm.forward(x, s.normed.pointer, saved: s.norm, pixels: pixels, c)
        SiLU.forward(s.normed.pointer, s.out.pointer, sigmoid: s.sigmoid.pointer, count: s.out.count)
    }

    /// dy is overwritten with the gradient at the norm's output (scratch use); dx as GroupNorm's.
    func backward(dy: UnsafeMutablePointer<Float>, saved s: Saved, dx: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                  pixels: Int, _ c: UNetContext) {
        SiLU.backward(x: s.normed.pointer, sigmoid: s.sigmoid.pointer, dy: dy, dx: dy, count: s.out.count)
        norm.backward(dy: dy, saved: s.norm, dx: dx, accumulate: accumulate, pixels: pixels, c)
    }
}

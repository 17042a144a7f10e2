import CKernels
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

    /// CKernels' AVX2/AVX-512 passes (unet_norm.h) when the CPU has AVX2 + FMA; the Swift loops
    /// below otherwise. `kernels` forces either (tests).
    nonisolated(unsafe) static var kernels: Bool? = nil
    static var useKernels: Bool { tv_unet_norm_available() != 0 && (kernels ?? true) }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, saved s: Saved, pixels: Int, _ c: UNetContext) {
        if GroupNorm.useKernels && !c.keeps {
            tv_unet_groupnorm_infer(x, c.p + weight, c.p + bias, y, 0, Int32(channels), Int32(groups), Int32(c.batch), Int32(pixels), eps)
            return
        }
        if GroupNorm.useKernels {
            tv_unet_groupnorm_forward(x, s.xhat.pointer, s.rstd.pointer, c.p + weight, c.p + bias, y, nil,
                                      Int32(channels), Int32(groups), Int32(c.batch), Int32(pixels), eps)
            return
        }
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
        if GroupNorm.useKernels {
            tv_unet_groupnorm_backward(dy, s.xhat.pointer, s.rstd.pointer, c.p + weight, c.p + bias, nil, c.g + weight,
                                       c.g + bias, dx, Int32(channels), Int32(groups), Int32(c.batch), Int32(pixels),
                                       accumulate ? 1 : 0)
            return
        }
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
/// Keeps the sigmoid for the backward pass, and SiLU's input unless the fused kernels run (they
/// recompute it from x̂: one FMA per element instead of a stored activation).
struct NormSiLU {
    let norm: GroupNorm

    final class Saved {
        let norm: GroupNorm.Saved
        let normed, sigmoid, out: FloatBuffer
        /// Whether this pass runs CKernels' fused GroupNorm + SiLU (decided when allocated).
        let fused: Bool
        init(_ n: GroupNorm, count: Int, batch: Int, pixels: Int) {
            norm = n.saved(batch: batch, pixels: pixels)
            fused = GroupNorm.useKernels
            normed = FloatBuffer(count: fused ? 0 : count); sigmoid = FloatBuffer(count: count); out = FloatBuffer(count: count)
        }
    }

    func saved(batch: Int, pixels: Int) -> Saved { Saved(norm, count: norm.channels * batch * pixels, batch: batch, pixels: pixels) }

    func forward(_ x: UnsafePointer<Float>, saved s: Saved, pixels: Int, _ c: UNetContext) {
        if s.fused && !c.keeps {
            let n = norm
            tv_unet_groupnorm_infer(x, c.p + n.weight, c.p + n.bias, s.out.pointer, 1, Int32(n.channels), Int32(n.groups),
                                    Int32(c.batch), Int32(pixels), n.eps)
            return
        }
        if s.fused {
            let n = norm
            tv_unet_groupnorm_forward(x, s.norm.xhat.pointer, s.norm.rstd.pointer, c.p + n.weight, c.p + n.bias, s.out.pointer,
                                      s.sigmoid.pointer, Int32(n.channels), Int32(n.groups), Int32(c.batch), Int32(pixels), n.eps)
            return
        }
        norm.forward(x, s.normed.pointer, saved: s.norm, pixels: pixels, c)
        SiLU.forward(s.normed.pointer, s.out.pointer, sigmoid: s.sigmoid.pointer, count: s.out.count)
    }

    /// dy may be overwritten (scratch use); dx as GroupNorm's.
    func backward(dy: UnsafeMutablePointer<Float>, saved s: Saved, dx: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                  pixels: Int, _ c: UNetContext) {
        if s.fused {
            let n = norm
            tv_unet_groupnorm_backward(dy, s.norm.xhat.pointer, s.norm.rstd.pointer, c.p + n.weight, c.p + n.bias,
                                       s.sigmoid.pointer, c.g + n.weight, c.g + n.bias, dx, Int32(n.channels), Int32(n.groups),
                                       Int32(c.batch), Int32(pixels), accumulate ? 1 : 0)
            return
        }
        SiLU.backward(x: s.normed.pointer, sigmoid: s.sigmoid.pointer, dy: dy, dx: dy, count: s.out.count)
        norm.backward(dy: dy, saved: s.norm, dx: dx, accumulate: accumulate, pixels: pixels, c)
    }
}

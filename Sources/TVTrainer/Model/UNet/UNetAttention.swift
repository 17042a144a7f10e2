import CKernels
import COpenBLAS
import Foundation

/// diffusers' Attention as the UNet blocks build it (`_from_deprecated_attn_block`): self-attention
/// over the H·W pixels of each sample, `heads` heads of `headDim` channels:
///
///     xn = group_norm(x);  q, k, v = to_q(xn), to_k(xn), to_v(xn)        (per pixel, [C, N])
///     o_h = softmax(q_hᵀ k_h / sqrt(headDim)) v_h                        (per sample and head)
///     y = (to_out.0(o) + x) / rescale_output_factor
///
/// Softmax probabilities are kept per (sample, head), [L, L] with L = H·W.
final class AttentionBlock {
    let channels, heads, headDim, pixels: Int
    let rescale: Float
    let norm: GroupNorm
    let q, k, v, out: Int   // weight offsets; biases follow each weight
    private var normSaved: GroupNorm.Saved?
    private(set) var xn, qs, ks, vs, probs, o, y: FloatBuffer

    init(_ l: inout ParameterLayout, _ name: String, channels: Int, headDim: Int, groups: Int, eps: Float,
         rescale: Float, pixels: Int) {
        self.channels = channels; self.headDim = headDim; heads = channels / headDim
        self.pixels = pixels; self.rescale = rescale
        norm = GroupNorm(&l, name + ".group_norm", channels: channels, groups: groups, eps: eps)
        func linear(_ n: String) -> Int {
            let w = l.add("\(name).\(n).weight", [channels, channels]); l.add("\(name).\(n).bias", [channels]); return w
        }
        q = linear("to_q"); k = linear("to_k"); v = linear("to_v"); out = linear("to_out.0")
        xn = FloatBuffer(count: 0); qs = xn; ks = xn; vs = xn; probs = xn; o = xn; y = xn
    }

    func allocate(batch B: Int) {
        let n = channels * B * pixels
        normSaved = norm.saved(batch: B, pixels: pixels)
        xn = FloatBuffer(count: n); qs = FloatBuffer(count: n); ks = FloatBuffer(count: n); vs = FloatBuffer(count: n)
        o = FloatBuffer(count: n); y = FloatBuffer(count: n)
        probs = FloatBuffer(count: B * heads * pixels * pixels)
    }

    private func linear(_ w: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ c: UNetContext, accumulate: Bool = false) {
        Pointwise.forward(x, weight: c.p + w, bias: c.p + w + channels * channels, y, inChannels: channels,
                          outChannels: channels, columns: c.batch * pixels, accumulate: accumulate)
    }

    func forward(_ x: UnsafePointer<Float>, _ c: UNetContext) {
        let B = c.batch, L = pixels, N = B * L, d = headDim
        norm.forward(x, xn.pointer, saved: normSaved!, pixels: L, c)
        linear(q, xn.pointer, qs.pointer, c); linear(k, xn.pointer, ks.pointer, c); linear(v, xn.pointer, vs.pointer, c)
        let scale = 1 / Float(d).squareRoot()
        for b in 0..<B {
            for h in 0..<heads {
                let off = h * d * N + b * L
                // Evaluation keeps no probabilities: one [L, L] buffer, reused while in cache.
                let P = c.keeps ? probs.pointer + (b * heads + h) * L * L : c.ws.scores.pointer
                // S[i, j] = scale Σ_c q[c, i] k[c, j]
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(L), Int32(L), Int32(d), scale,
                            qs.pointer + off, Int32(N), ks.pointer + off, Int32(N), 0, P, Int32(L))
                Softmax.rows(P, rows: L, L)
                // o[c, i] = Σ_j v[c, j] P[i, j]
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(d), Int32(L), Int32(L), 1,
                            vs.pointer + off, Int32(N), P, Int32(L), 0, o.pointer + off, Int32(N))
            }
        }
        y.pointer.update(from: x, count: channels * N)
        linear(out, o.pointer, y.pointer, c, accumulate: true)
        if rescale != 1 { Tensor4.scale(y.pointer, by: 1 / rescale, count: channels * N) }
    }

    /// dx is overwritten. Uses workspace scratch 0–4 and the score buffer.
    func backward(dy dyIn: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ c: UNetContext) {
        let B = c.batch, L = pixels, N = B * L, d = headDim, n = channels * N, cc = channels * channels
        let s = c.ws.scratch
        let dyS = s[0].pointer, dO = s[1].pointer, dq = s[2].pointer, dk = s[3].pointer, dv = s[4].pointer
        dyS.update(from: dyIn, count: n)
        if rescale != 1 { Tensor4.scale(dyS, by: 1 / rescale, count: n) }
        dx.update(from: dyS, count: n)   // the residual connection
        Reduce.rowSums(dyS, rows: channels, columns: N, into: c.g + out + cc)
        Pointwise.backward(dy: dyS, x: o.pointer, weight: c.p + out, dWeight: c.g + out, dx: dO, accumulate: false,
                           inChannels: channels, outChannels: channels, columns: N)
        let scale = 1 / Float(d).squareRoot()
        let dS = c.ws.scores.pointer
        for b in 0..<B {
            for h in 0..<heads {
                let off = h * d * N + b * L
                let P = probs.pointer + (b * heads + h) * L * L
                // dv[c, j] = Σ_i dO[c, i] P[i, j];  dP[i, j] = Σ_c dO[c, i] v[c, j]
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(L), Int32(L), 1,
                            dO + off, Int32(N), P, Int32(L), 0, dv + off, Int32(N))
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(L), Int32(L), Int32(d), 1,
                            dO + off, Int32(N), vs.pointer + off, Int32(N), 0, dS, Int32(L))
                Softmax.backwardRows(probs: P, grad: dS, rows: L, L)
                // dq[c, i] = scale Σ_j dS[i, j] k[c, j];  dk[c, j] = scale Σ_i dS[i, j] q[c, i]
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(d), Int32(L), Int32(L), scale,
                            ks.pointer + off, Int32(N), dS, Int32(L), 0, dq + off, Int32(N))
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(L), Int32(L), scale,
                            qs.pointer + off, Int32(N), dS, Int32(L), 0, dk + off, Int32(N))
            }
        }
        // The three projections' input gradients sum into dxn (reusing dO's scratch).
        let dxn = dO
        for (w, dproj) in [(q, dq), (k, dk), (v, dv)] {
            Reduce.rowSums(dproj, rows: channels, columns: N, into: c.g + w + cc)
            Pointwise.backward(dy: dproj, x: xn.pointer, weight: c.p + w, dWeight: c.g + w, dx: dxn, accumulate: w != q,
                               inChannels: channels, outChannels: channels, columns: N)
        }
        norm.backward(dy: dxn, saved: normSaved!, dx: dx, accumulate: true, pixels: L, c)
    }
}

/// Row softmax (max-subtracted, like torch) and its backward pass, in place: CKernels' passes
/// (unet_norm.h) with the GroupNorm kernels, the Swift rows below otherwise.
enum Softmax {
    static func rows(_ p: UnsafeMutablePointer<Float>, rows: Int, _ n: Int) {
        if GroupNorm.useKernels { tv_unet_softmax_rows(p, Int32(rows), Int32(n)); return }
        for i in 0..<rows { row(p + i * n, n) }
    }

    static func backwardRows(probs p: UnsafePointer<Float>, grad g: UnsafeMutablePointer<Float>, rows: Int, _ n: Int) {
        if GroupNorm.useKernels { tv_unet_softmax_backward_rows(p, g, Int32(rows), Int32(n)); return }
        for i in 0..<rows { backwardRow(probs: p + i * n, grad: g + i * n, n) }
    }

    static func row(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        var m = -Float.infinity
        for j in 0..<n { m = max(m, p[j]) }
        // FastMath.exp (relative error ~2e-7) four lanes at a time: glibc's expf per score dominated.
        var acc = SIMD4<Float>(), j = 0
        while j + 4 <= n {
            let e = FastMath.exp(UnsafeRawPointer(p + j).loadUnaligned(as: SIMD4<Float>.self) - m)
            UnsafeMutableRawPointer(p + j).storeBytes(of: e, as: SIMD4<Float>.self)
            acc += e; j += 4
        }
        var total = acc.sum()
        while j < n { let e = FastMath.exp(p[j] - m); p[j] = e; total += e; j += 1 }
        let inv = 1 / total
        for j in 0..<n { p[j] *= inv }
    }

    /// grad ← P ⊙ (grad − Σ_j grad_j P_j).
    static func backwardRow(probs p: UnsafePointer<Float>, grad g: UnsafeMutablePointer<Float>, _ n: Int) {
        let dotPG = Reduce.dot(p, g, n)
        for j in 0..<n { g[j] = p[j] * (g[j] - dotPG) }
    }
}

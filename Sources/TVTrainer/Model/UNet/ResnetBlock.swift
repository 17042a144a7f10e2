import Foundation

/// diffusers' ResnetBlock2D with time_embedding_norm "default", pre-norm, SiLU:
///
///     h = conv1(silu(norm1(x))) + time_emb_proj(silu(temb))[:, :, None, None]
///     h = conv2(dropout(silu(norm2(h))))
///     y = (shortcut(x) + h) / output_scale_factor      shortcut = conv_shortcut (1×1) when Cin ≠ Cout
///
/// silu(temb) is computed once by the model and shared by every block (`tembAct`, [B, T]).
final class ResnetBlock {
    let inChannels, outChannels, pixels, tembChannels: Int
    let outputScale, dropout: Float
    let normAct1, normAct2: NormSiLU
    let conv1, conv2: Conv2d
    let shortcut: Conv2d?
    let tembWeight, tembBias: Int
    private var saved1, saved2: NormSiLU.Saved?
    private(set) var c1, tproj, dtproj, mask, dropped, out: FloatBuffer

    init(_ l: inout ParameterLayout, _ name: String, inChannels: Int, outChannels: Int, tembChannels: Int,
         groups: Int, eps: Float, outputScale: Float, dropout: Float, height: Int, width: Int) {
        self.inChannels = inChannels; self.outChannels = outChannels; self.tembChannels = tembChannels
        self.outputScale = outputScale; self.dropout = dropout; pixels = height * width
        normAct1 = NormSiLU(norm: GroupNorm(&l, name + ".norm1", channels: inChannels, groups: groups, eps: eps))
        conv1 = Conv2d(&l, name + ".conv1", inChannels: inChannels, outChannels: outChannels, kernel: 3, padding: 1, inH: height, inW: width)
        tembWeight = l.add(name + ".time_emb_proj.weight", [outChannels, tembChannels])
        tembBias = l.add(name + ".time_emb_proj.bias", [outChannels])
        normAct2 = NormSiLU(norm: GroupNorm(&l, name + ".norm2", channels: outChannels, groups: groups, eps: eps))
        conv2 = Conv2d(&l, name + ".conv2", inChannels: outChannels, outChannels: outChannels, kernel: 3, padding: 1, inH: height, inW: width)
        shortcut = inChannels == outChannels ? nil
            : Conv2d(&l, name + ".conv_shortcut", inChannels: inChannels, outChannels: outChannels, kernel: 1, padding: 0, inH: height, inW: width)
        c1 = FloatBuffer(count: 0); tproj = c1; dtproj = c1; mask = c1; dropped = c1; out = c1
    }

    func allocate(batch B: Int) {
        let n = outChannels * B * pixels
        saved1 = normAct1.saved(batch: B, pixels: pixels); saved2 = normAct2.saved(batch: B, pixels: pixels)
        c1 = FloatBuffer(count: n); out = FloatBuffer(count: n)
        tproj = FloatBuffer(count: B * outChannels); dtproj = FloatBuffer(count: B * outChannels)
        mask = FloatBuffer(count: dropout > 0 ? n : 0); dropped = FloatBuffer(count: dropout > 0 ? n : 0)
    }

    /// Whether the last forward pass applied dropout (conv2 then read `dropped`).
    private var droppedOut = false
    private var conv2Input: UnsafeMutablePointer<Float> { droppedOut ? dropped.pointer : saved2!.out.pointer }

    func forward(_ x: UnsafePointer<Float>, tembAct: UnsafePointer<Float>, _ c: UNetContext) {
        let B = c.batch
        normAct1.forward(x, saved: saved1!, pixels: pixels, c)
        conv1.forward(saved1!.out.pointer, c1.pointer, c)
        Linear.forward(x: tembAct, weight: c.p + tembWeight, bias: c.p + tembBias, y: tproj.pointer,
                       batch: B, inFeatures: tembChannels, outFeatures: outChannels)
        for ch in 0..<outChannels {
            for b in 0..<B {
                let row = c1.pointer + (ch * B + b) * pixels, t = tproj[b * outChannels + ch]
                for i in 0..<pixels { row[i] += t }
            }
        }
        normAct2.forward(c1.pointer, saved: saved2!, pixels: pixels, c)
        droppedOut = false
        if dropout > 0, let source = c.dropout {
            // F.dropout: zero with probability p, scale the rest by 1/(1-p).
            let keep = 1 / (1 - dropout), n = mask.count
            if !c.replaysDropout { for i in 0..<n { mask[i] = source.rng.uniform() < dropout ? 0 : keep } }
            for i in 0..<n { dropped[i] = saved2!.out[i] * mask[i] }
            droppedOut = true
        }
        conv2.forward(conv2Input, out.pointer, c)
        let n = outChannels * B * pixels
        if let shortcut {
            Pointwise.forward(x, weight: c.p + shortcut.weight, bias: c.p + shortcut.bias!, out.pointer, inChannels: inChannels,
                              outChannels: outChannels, columns: B * pixels, accumulate: true)
        } else {
            Tensor4.add(x, into: out.pointer, count: n)
        }
        if outputScale != 1 { Tensor4.scale(out.pointer, by: 1 / outputScale, count: n) }
    }

    /// dx is overwritten; dTembAct ([B, T]) is accumulated into. Uses workspace scratch 0–2.
    func backward(dy dyIn: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                  tembAct: UnsafePointer<Float>, dTembAct: UnsafeMutablePointer<Float>, _ c: UNetContext) {
        let B = c.batch, n = outChannels * B * pixels, s = c.ws.scratch
        var dy = dyIn
        if outputScale != 1 {
            s[2].pointer.update(from: dyIn, count: n)
            Tensor4.scale(s[2].pointer, by: 1 / outputScale, count: n)
            dy = UnsafePointer(s[2].pointer)
        }
        let da2 = s[0].pointer, dc1 = s[1].pointer
        conv2.backward(dy: dy, x: conv2Input, dx: da2, c)
        if droppedOut { for i in 0..<n { da2[i] *= mask[i] } }
        normAct2.backward(dy: da2, saved: saved2!, dx: dc1, pixels: pixels, c)
        for ch in 0..<outChannels {
            for b in 0..<B { dtproj[b * outChannels + ch] = Reduce.sum(dc1 + (ch * B + b) * pixels, pixels) }
        }
        Linear.backward(dy: dtproj.pointer, x: tembAct, weight: c.p + tembWeight, dWeight: c.g + tembWeight,
                        dBias: c.g + tembBias, dx: dTembAct, accumulate: true, batch: B, inFeatures: tembChannels,
                        outFeatures: outChannels)
        let da1 = s[0].pointer
        conv1.backward(dy: dc1, x: saved1!.out.pointer, dx: da1, c)
        normAct1.backward(dy: da1, saved: saved1!, dx: dx, pixels: pixels, c)
        if let shortcut {
            shortcut.backward(dy: dy, x: x, dx: dx, accumulate: true, c)
        } else {
            Tensor4.add(dy, into: dx, count: n)
        }
    }
}

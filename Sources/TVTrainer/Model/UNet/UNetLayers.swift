import CKernels
import COpenBLAS
import Foundation

// The UNet's convolution layers, forward and backward side by side. Activations are stored
// channel-major, [C, B, H, W] ("CBHW"), so a convolution over the whole batch is ONE sgemm
// (W [Cout, Cin·k·k] × columns [Cin·k·k, B·H·W]), a 1×1 conv or per-pixel linear layer is one sgemm
// on the activation itself, and channel concatenation is placing blocks one after another.

/// What one forward/backward pass works with: the parameter and gradient buffers, shared scratch,
/// and the batch size.
struct UNetContext {
    let p: UnsafeMutablePointer<Float>
    let g: UnsafeMutablePointer<Float>
    let ws: UNetWorkspace
    let batch: Int
    /// Set while training with dropout > 0: the generator the dropout masks are drawn from.
    let dropout: DropoutSource?
    /// Whether the forward pass keeps what `backward` needs (GroupNorm's x̂ and 1/σ, SiLU's
    /// sigmoid, attention probabilities); false for evaluation, which computes the same outputs.
    var keeps = true
    /// Set when a pass repeats the previous one (UNetGraph.keepActivations): dropout reuses the
    /// masks that pass drew instead of drawing new ones.
    var replaysDropout = false
}

/// The random source of dropout masks (training only; evaluation never drops).
public final class DropoutSource {
    public var rng: TrainerRandom
    public init(seed: UInt64) { rng = TrainerRandom.derived(seed: seed, stream: 0xD20) }
}

/// Scratch shared by all layers of one model instance, sized for one batch size.
final class UNetWorkspace {
    /// im2col columns (one chunk of samples at a time).
    let col: FloatBuffer
    /// General [C, B·H·W] scratch tensors, large enough for the largest activation.
    let scratch: [FloatBuffer]
    /// Attention score gradients, [L, L] for the largest token count L.
    let scores: FloatBuffer
    /// A conv's flipped, transposed weights (the input-gradient pass).
    let flipped: FloatBuffer
    /// The direct 3×3 kernels' zero-bordered input and packed weights (CKernels/conv3x3.h).
    let padded, packed: FloatBuffer

    init(activation: Int, col: Int, scores: Int, flipped: Int, padded: Int = 0, packed: Int = 0) {
        self.flipped = FloatBuffer(count: flipped)
        self.col = FloatBuffer(count: col)
        self.padded = FloatBuffer(count: padded); self.packed = FloatBuffer(count: packed)
        scratch = (0..<5).map { _ in FloatBuffer(count: activation) }
        self.scores = FloatBuffer(count: scores)
    }
}

/// nn.Conv2d with square kernel k, stride s and symmetric zero padding `padding`; weight
/// [Cout, Cin, k, k] (PyTorch layout), optional bias. `padding` = 0 with stride 2 and an even input
/// is diffusers' Downsample2D(padding=0), which pads one zero row/column on the bottom/right: the
/// output size (H+1-k)/2+1 below already reads those as zeros.
struct Conv2d {
    let inChannels, outChannels, kernel, stride, padding: Int
    let inH, inW, outH, outW: Int
    let weight: Int
    let bias: Int?
    /// Column buffer limit (floats) per chunk of samples; at least one sample per chunk.
    static let columnBudget = 1 << 22

    init(_ l: inout ParameterLayout, _ name: String, inChannels: Int, outChannels: Int, kernel: Int,
         stride: Int = 1, padding: Int, inH: Int, inW: Int, bias: Bool = true) {
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernel = kernel
        self.stride = stride; self.padding = padding; self.inH = inH; self.inW = inW
        let padTotal = padding == 0 && stride == 2 ? 1 : 2 * padding
        outH = (inH + padTotal - kernel) / stride + 1
        outW = (inW + padTotal - kernel) / stride + 1
        weight = l.add(name + ".weight", [outChannels, inChannels, kernel, kernel])
        self.bias = bias ? l.add(name + ".bias", [outChannels]) : nil
    }

    var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
    /// 3×3, stride 1, padding 1: CKernels' direct convolution instead of im2col + sgemm whenever
    /// the CPU has AVX2 + FMA (both widths beat im2col + OpenBLAS's Haswell sgemm; docs/trainer.md).
    var isDirect: Bool {
        kernel == 3 && stride == 1 && padding == 1 && tv_conv3x3_available() != 0 && (Conv2d.directKernels ?? true)
    }
    /// nil: the default above; true/false forces the direct or the im2col path (tests).
    nonisolated(unsafe) static var directKernels: Bool? = nil
    var rows: Int { inChannels * kernel * kernel }

    func samplesPerChunk(batch: Int) -> Int { max(1, min(batch, Conv2d.columnBudget / max(1, rows * outH * outW))) }
    func columnNeed(batch: Int) -> Int { isPointwise || isDirect ? 0 : rows * outH * outW * samplesPerChunk(batch: batch) }
    /// Floats of the direct kernels' padded input (either direction) and packed weights.
    /// (The padded buffer doubles as the weight gradient's scratch.)
    func paddedNeed(batch: Int) -> Int {
        guard isDirect else { return 0 }
        return max(max(inChannels, outChannels) * batch * (inH + 2) * (inW + 2),
                   tv_conv3x3_weight_grad_scratch(Int32(inChannels), Int32(outChannels), Int32(batch), Int32(inH), Int32(inW)))
    }
    var packedNeed: Int {
        guard isDirect else { return 0 }
        // Both widths' block rows (8 with AVX-512, 6 with AVX2; tests switch widths at run time).
        func rounded(_ n: Int) -> Int { max((n + 7) / 8 * 8, (n + 5) / 6 * 6) }
        return max(rounded(outChannels) * inChannels, rounded(inChannels) * outChannels) * 9
    }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ c: UNetContext) {
        let n = c.batch * outH * outW
        if isDirect {
            tv_conv3x3_pad(x, c.ws.padded.pointer, Int32(inChannels), Int32(c.batch), Int32(inH), Int32(inW))
            tv_conv3x3_pack(c.p + weight, c.ws.packed.pointer, Int32(inChannels), Int32(outChannels), 0)
            tv_conv3x3_forward(c.ws.padded.pointer, c.ws.packed.pointer, bias.map { UnsafePointer(c.p + $0) }, y,
                               Int32(inChannels), Int32(outChannels), Int32(c.batch), Int32(outH), Int32(outW), 0)
            return
        }
        if isPointwise {
            Pointwise.forward(x, weight: c.p + weight, bias: bias.map { c.p + $0 }, y, inChannels: inChannels,
                              outChannels: outChannels, columns: n)
            return
        }
        if let bias { for o in 0..<outChannels { (y + o * n).update(repeating: c.p[bias + o], count: n) } }
        let chunk = samplesPerChunk(batch: c.batch)
        var b0 = 0
        while b0 < c.batch {
            let nb = min(chunk, c.batch - b0), cols = nb * outH * outW
            im2col(x, c.ws.col.pointer, b0: b0, count: nb, batch: c.batch)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outChannels), Int32(cols), Int32(rows),
                        1, c.p + weight, Int32(rows), c.ws.col.pointer, Int32(cols), bias == nil ? 0 : 1,
                        y + b0 * outH * outW, Int32(n))
            b0 += nb
        }
    }

    /// Overwrites the weight/bias gradients; dx (when given) is overwritten, or accumulated into.
    func backward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  accumulate: Bool = false, _ c: UNetContext) {
        let n = c.batch * outH * outW
        if let bias { Reduce.rowSums(dy, rows: outChannels, columns: n, into: c.g + bias) }
        if isDirect {
            let (ci, co, b, h, w) = (Int32(inChannels), Int32(outChannels), Int32(c.batch), Int32(inH), Int32(inW))
            tv_conv3x3_weight_grad(dy, x, c.g + weight, ci, co, b, h, w, c.ws.padded.pointer)
            guard let dx else { return }
            // dx is the flipped, transposed conv of dy.
            tv_conv3x3_pad(dy, c.ws.padded.pointer, co, b, h, w)
            tv_conv3x3_pack(c.p + weight, c.ws.packed.pointer, ci, co, 1)
            tv_conv3x3_forward(c.ws.padded.pointer, c.ws.packed.pointer, nil, dx, co, ci, b, h, w, accumulate ? 1 : 0)
            return
        }
        if isPointwise {
            Pointwise.backward(dy: dy, x: x, weight: c.p + weight, dWeight: c.g + weight, dx: dx, accumulate: accumulate,
                               inChannels: inChannels, outChannels: outChannels, columns: n)
            return
        }
        // A same-size 3×3 conv's input gradient is the same conv of dy with the weights flipped and
        // transposed (a "full" correlation): one gather and one sgemm straight into dx, instead of
        // a column-sized gradient and a scatter-add back into dx.
        let transposed = sameSize ? Conv2d(transposeOf: self) : nil
        if transposed != nil { flipTransposedWeights(c.p + weight, into: c.ws.flipped.pointer) }
        if let dx, !accumulate, transposed == nil { dx.update(repeating: 0, count: inChannels * c.batch * inH * inW) }
        let chunk = samplesPerChunk(batch: c.batch)
        var b0 = 0
        while b0 < c.batch {
            let nb = min(chunk, c.batch - b0), cols = nb * outH * outW
            let dyc = dy + b0 * outH * outW
            im2col(x, c.ws.col.pointer, b0: b0, count: nb, batch: c.batch)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(outChannels), Int32(rows), Int32(cols),
                        1, dyc, Int32(n), c.ws.col.pointer, Int32(cols), b0 == 0 ? 0 : 1, c.g + weight, Int32(rows))
            if let dx, let transposed {
                transposed.im2col(dy, c.ws.col.pointer, b0: b0, count: nb, batch: c.batch)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(inChannels), Int32(cols), Int32(transposed.rows),
                            1, c.ws.flipped.pointer, Int32(transposed.rows), c.ws.col.pointer, Int32(cols), accumulate ? 1 : 0,
                            dx + b0 * inH * inW, Int32(c.batch * inH * inW))
            } else if let dx {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(rows), Int32(cols), Int32(outChannels),
                            1, c.p + weight, Int32(rows), dyc, Int32(n), 0, c.ws.col.pointer, Int32(cols))
                col2im(c.ws.col.pointer, dx, b0: b0, count: nb, batch: c.batch)
            }
            b0 += nb
        }
    }

    /// Stride 1 with "same" padding: output and input have the same size.
    var sameSize: Bool { stride == 1 && 2 * padding == kernel - 1 && !isPointwise }

    /// The geometry of the conv that maps dy back to dx (no parameters of its own).
    private init(transposeOf o: Conv2d) {
        inChannels = o.outChannels; outChannels = o.inChannels; kernel = o.kernel; stride = 1; padding = o.padding
        inH = o.outH; inW = o.outW; outH = o.inH; outW = o.inW; weight = -1; bias = nil
    }

    /// flipped[ci, co, k−1−ky, k−1−kx] = W[co, ci, ky, kx]: [Cin, Cout·k·k].
    private func flipTransposedWeights(_ w: UnsafePointer<Float>, into f: UnsafeMutablePointer<Float>) {
        let kk = kernel * kernel
        for co in 0..<outChannels {
            for ci in 0..<inChannels {
                let src = w + (co * inChannels + ci) * kk, dst = f + (ci * outChannels + co) * kk
                for j in 0..<kk { dst[kk - 1 - j] = src[j] }
            }
        }
    }

    /// Floats of the flipped weights' scratch.
    var flippedNeed: Int { sameSize && !isDirect ? inChannels * outChannels * kernel * kernel : 0 }
    func dyColumnNeed(batch: Int) -> Int { sameSize && !isDirect ? outChannels * kernel * kernel * outH * outW * samplesPerChunk(batch: batch) : 0 }

    /// Input pixel column of output column ox for kernel column kx, and the valid ox range when
    /// stride is 1 (a contiguous copy there).
    private func validRange(_ kx: Int) -> (Int, Int) {
        let lo = min(outW, max(0, padding - kx)), hi = max(lo, min(outW, inW + padding - kx))
        return (lo, hi)
    }

    /// col[(ci·k + ky)·k + kx, (b - b0)·outH·outW + oy·outW + ox] = x[ci, b, oy·s - p + ky, ox·s - p + kx].
    func im2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, b0: Int, count nb: Int, batch: Int) {
        let inHW = inH * inW, outHW = outH * outW, cols = nb * outHW
        for ci in 0..<inChannels {
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let row = col + ((ci * kernel + ky) * kernel + kx) * cols
                    let (lo, hi) = validRange(kx)
                    for bi in 0..<nb {
                        let src = x + (ci * batch + b0 + bi) * inHW
                        for oy in 0..<outH {
                            let dst = row + bi * outHW + oy * outW
                            let iy = oy * stride - padding + ky
                            if iy < 0 || iy >= inH { dst.update(repeating: 0, count: outW); continue }
                            let srow = src + iy * inW
                            if stride == 1 {
                                for ox in 0..<lo { dst[ox] = 0 }
                                if hi > lo { (dst + lo).update(from: srow + lo - padding + kx, count: hi - lo) }
                                for ox in hi..<outW { dst[ox] = 0 }
                            } else {
                                for ox in 0..<outW {
                                    let ix = ox * stride - padding + kx
                                    dst[ox] = ix >= 0 && ix < inW ? srow[ix] : 0
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of im2col: adds each column entry back into the input position it came from.
    func col2im(_ col: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, b0: Int, count nb: Int, batch: Int) {
        let inHW = inH * inW, outHW = outH * outW, cols = nb * outHW
        for ci in 0..<inChannels {
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let row = col + ((ci * kernel + ky) * kernel + kx) * cols
                    let (lo, hi) = validRange(kx)
                    for bi in 0..<nb {
                        let dst = dx + (ci * batch + b0 + bi) * inHW
                        for oy in 0..<outH {
                            let iy = oy * stride - padding + ky
                            if iy < 0 || iy >= inH { continue }
                            let src = row + bi * outHW + oy * outW
                            let drow = dst + iy * inW
                            if stride == 1 {
                                let d = drow + lo - padding + kx, s = src + lo
                                for j in 0..<(hi - lo) { d[j] += s[j] }
                            } else {
                                for ox in 0..<outW {
                                    let ix = ox * stride - padding + kx
                                    if ix >= 0 && ix < inW { drow[ix] += src[ox] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A per-pixel linear map on a CBHW activation: y [Cout, N] = W [Cout, Cin] x [Cin, N] (+ b).
/// It is both a 1×1 convolution and nn.Linear applied to tokens (attention's to_q/to_k/to_v/to_out).
enum Pointwise {
    static func forward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        _ y: UnsafeMutablePointer<Float>, inChannels: Int, outChannels: Int, columns n: Int,
                        accumulate: Bool = false) {
        var beta: Float = accumulate ? 1 : 0
        if let bias {
            for o in 0..<outChannels {
                let row = y + o * n, b = bias[o]
                if accumulate { for j in 0..<n { row[j] += b } } else { row.update(repeating: b, count: n) }
            }
            beta = 1
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outChannels), Int32(n), Int32(inChannels),
                    1, weight, Int32(inChannels), x, Int32(n), beta, y, Int32(n))
    }

    /// dW = dy xᵀ (overwritten); dx = Wᵀ dy (overwritten, or accumulated).
    static func backward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                         dWeight: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>?, accumulate: Bool,
                         inChannels: Int, outChannels: Int, columns n: Int) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(outChannels), Int32(inChannels), Int32(n),
                    1, dy, Int32(n), x, Int32(n), 0, dWeight, Int32(inChannels))
        if let dx {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(inChannels), Int32(n), Int32(outChannels),
                        1, weight, Int32(inChannels), dy, Int32(n), accumulate ? 1 : 0, dx, Int32(n))
        }
    }
}

/// Sums over contiguous runs, eight lanes at a time.
enum Reduce {
    @inline(__always)
    static func sum(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(), i = 0
        while i + 8 <= n { acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self); i += 8 }
        var s = acc.sum()
        while i < n { s += a[i]; i += 1 }
        return s
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(), i = 0
        while i + 8 <= n {
            acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// out[r] = sum of row r (overwritten).
    static func rowSums(_ a: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { out[r] = sum(a + r * columns, columns) }
    }
}

/// Layout changes at the model boundary and the elementwise pieces of the blocks.
enum Tensor4 {
    /// [B, C, P] (PyTorch NCHW) → [C, B, P], or back with `inverse`.
    static func transpose(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, channels: Int,
                          pixels: Int, inverse: Bool = false) {
        for b in 0..<batch {
            for ch in 0..<channels {
                let nchw = (b * channels + ch) * pixels, cbhw = (ch * batch + b) * pixels
                if inverse { (y + nchw).update(from: x + cbhw, count: pixels) } else { (y + cbhw).update(from: x + nchw, count: pixels) }
            }
        }
    }

    /// Nearest-neighbour ×2 upsampling of [C·B, H, W] planes (F.interpolate(scale_factor=2.0, mode="nearest")).
    static func upsampleNearest(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, planes: Int, height: Int, width: Int) {
        let w2 = 2 * width
        for p in 0..<planes {
            let src = x + p * height * width, dst = y + p * 4 * height * width
            for iy in 0..<height {
                let r0 = dst + 2 * iy * w2, s = src + iy * width
                for ix in 0..<width { r0[2 * ix] = s[ix]; r0[2 * ix + 1] = s[ix] }
                (r0 + w2).update(from: r0, count: w2)
            }
        }
    }

    /// The adjoint: each input gradient is the sum of its four copies' gradients (overwrites dx).
    static func upsampleNearestBackward(_ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, planes: Int, height: Int, width: Int) {
        let w2 = 2 * width
        for p in 0..<planes {
            let src = dy + p * 4 * height * width, dst = dx + p * height * width
            for iy in 0..<height {
                let r0 = src + 2 * iy * w2, r1 = r0 + w2, d = dst + iy * width
                for ix in 0..<width { d[ix] = (r0[2 * ix] + r0[2 * ix + 1]) + (r1[2 * ix] + r1[2 * ix + 1]) }
            }
        }
    }

    static func add(_ a: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self) + UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { y[i] += a[i]; i += 1 }
    }

    static func scale(_ y: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
        for i in 0..<count { y[i] *= s }
    }
}

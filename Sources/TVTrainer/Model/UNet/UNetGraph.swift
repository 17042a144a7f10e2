import Foundation

/// The layers of one UNet2DModel instance in forward order, with the activations they keep
/// (allocated per batch size, reused across steps). Building it also builds the parameter layout,
/// so names, shapes and offsets come from one place.
final class UNetGraph {
    let config: UNetConfig
    private(set) var layout = ParameterLayout()
    let convIn, convOut: Conv2d
    let linear1W, linear1B, linear2W, linear2B: Int
    let down: [DownBlock]
    let mid: MidBlock
    let up: [UpBlock]
    let normOut: NormSiLU
    private(set) var batch = -1

    // Per-batch activations.
    private var input = FloatBuffer(count: 0), h0 = FloatBuffer(count: 0), h0Grad = FloatBuffer(count: 0)
    private var tEmb = FloatBuffer(count: 0), hidden = FloatBuffer(count: 0), hiddenSig = FloatBuffer(count: 0)
    private var hiddenAct = FloatBuffer(count: 0), emb = FloatBuffer(count: 0), embSig = FloatBuffer(count: 0)
    private var embAct = FloatBuffer(count: 0), dEmbAct = FloatBuffer(count: 0), dTmp = FloatBuffer(count: 0)
    private var dTmp2 = FloatBuffer(count: 0), outCBHW = FloatBuffer(count: 0)
    private var normOutSaved: NormSiLU.Saved?
    private var path = GradientPath(count: 0)
    private var workspace = UNetWorkspace(activation: 0, col: 0, scores: 0, flipped: 0)

    init(config c: UNetConfig) {
        self.config = c
        var l = ParameterLayout()
        let C0 = c.blockOutChannels[0], S = c.sampleSize, T = c.timeEmbedDim, eps = Float(c.normEps)
        convIn = Conv2d(&l, "conv_in", inChannels: c.inChannels, outChannels: C0, kernel: 3, padding: 1, inH: S, inW: S)
        linear1W = l.add("time_embedding.linear_1.weight", [T, C0]); linear1B = l.add("time_embedding.linear_1.bias", [T])
        linear2W = l.add("time_embedding.linear_2.weight", [T, T]); linear2B = l.add("time_embedding.linear_2.bias", [T])
        var size = S, prev = C0, downs: [DownBlock] = []
        for i in 0..<c.blockOutChannels.count {
            downs.append(DownBlock(&l, index: i, config: c, inChannels: prev, size: size))
            prev = c.blockOutChannels[i]
            if i < c.blockOutChannels.count - 1 { size /= 2 }
        }
        down = downs
        mid = MidBlock(&l, config: c, size: size)
        var ups: [UpBlock] = []
        let skipChannels = c.upSkipChannels
        for i in 0..<c.blockOutChannels.count {
            ups.append(UpBlock(&l, index: i, config: c, prevChannels: prev, skipChannels: skipChannels[i], size: size))
            prev = c.reversedChannels[i]
            if i < c.blockOutChannels.count - 1 { size *= 2 }
        }
        up = ups
        normOut = NormSiLU(norm: GroupNorm(&l, "conv_norm_out", channels: C0, groups: c.normNumGroups, eps: eps))
        convOut = Conv2d(&l, "conv_out", inChannels: C0, outChannels: c.outChannels, kernel: 3, padding: 1, inH: S, inW: S)
        layout = l
    }

    /// Every conv in the graph (for scratch sizing).
    private var convs: [Conv2d] {
        var all = [convIn, convOut]
        for b in down { all += b.resnets.flatMap { [$0.conv1, $0.conv2] }; if let d = b.downsample { all.append(d) } }
        all += mid.resnets.flatMap { [$0.conv1, $0.conv2] }
        for b in up { all += b.resnets.flatMap { [$0.conv1, $0.conv2] }; if let u = b.upsample { all.append(u) } }
        return all
    }

    func allocate(batch B: Int) {
        guard B != batch else { return }
        batch = B
        let c = config, P = c.sampleSize * c.sampleSize, C0 = c.blockOutChannels[0], T = c.timeEmbedDim
        input = FloatBuffer(count: c.inChannels * B * P); h0 = FloatBuffer(count: C0 * B * P); h0Grad = FloatBuffer(count: C0 * B * P)
        tEmb = FloatBuffer(count: B * C0)
        let n = B * T
        hidden = FloatBuffer(count: n); hiddenSig = FloatBuffer(count: n); hiddenAct = FloatBuffer(count: n)
        emb = FloatBuffer(count: n); embSig = FloatBuffer(count: n); embAct = FloatBuffer(count: n)
        dEmbAct = FloatBuffer(count: n); dTmp = FloatBuffer(count: n); dTmp2 = FloatBuffer(count: n)
        outCBHW = FloatBuffer(count: c.outChannels * B * P)
        normOutSaved = normOut.saved(batch: B, pixels: P)
        down.forEach { $0.allocate(batch: B) }; mid.allocate(batch: B); up.forEach { $0.allocate(batch: B) }
        // Wire each up resnet to the skip tensor it reads (diffusers pops them last-first).
        var stack: [(value: FloatBuffer, grad: FloatBuffer)] = [(h0, h0Grad)]
        for b in down { stack += zip(b.skips, b.skipGrads).map { ($0, $1) } }
        for b in up { b.skips = b.resnets.map { _ in stack.removeLast() } }
        // The largest activation any layer produces or reads (concatenations included).
        var largest = c.inChannels * B * P
        for conv in convs {
            largest = max(largest, conv.inChannels * B * conv.inH * conv.inW, conv.outChannels * B * conv.outH * conv.outW)
        }
        for b in up { largest = max(largest, b.concats.map(\.count).max() ?? 0) }
        let col = convs.map { max($0.columnNeed(batch: B), $0.dyColumnNeed(batch: B)) }.max() ?? 0
        var attnPixels = down.flatMap(\.attentions).map(\.pixels) + up.flatMap(\.attentions).map(\.pixels)
        if let a = mid.attention { attnPixels.append(a.pixels) }
        let L = attnPixels.max() ?? 0
        path = GradientPath(count: largest)
        workspace = UNetWorkspace(activation: largest, col: col, scores: L * L, flipped: convs.map(\.flippedNeed).max() ?? 0,
                                  padded: convs.map { $0.paddedNeed(batch: B) }.max() ?? 0, packed: convs.map(\.packedNeed).max() ?? 0)
    }

    func context(_ p: FloatBuffer, _ g: FloatBuffer, dropout: DropoutSource?, keeps: Bool = true) -> UNetContext {
        UNetContext(p: p.pointer, g: g.pointer, ws: workspace, batch: batch, dropout: dropout, keeps: keeps)
    }

    /// diffusers' get_timestep_embedding in float32: f_k = exp(-ln(10000)·k / (half − freq_shift)),
    /// [sin(t f), cos(t f)] (or [cos, sin] with flip_sin_to_cos), zero-padded when odd.
    private func timestepEmbedding(_ t: [Int]) {
        let E = config.blockOutChannels[0], half = E / 2
        let out = tEmb.pointer
        out.update(repeating: 0, count: t.count * E)
        for k in 0..<half {
            let exponent = Float(-Foundation.log(10000.0)) * Float(k) / Float(half - config.freqShift)
            let f = Foundation.exp(exponent)
            for (b, ti) in t.enumerated() {
                let a = Float(ti) * f
                let s = Float(Foundation.sin(Double(a))), co = Float(Foundation.cos(Double(a)))
                let row = out + b * E
                if config.flipSinToCos { row[k] = co; row[half + k] = s } else { row[k] = s; row[half + k] = co }
            }
        }
    }

    /// The timesteps of the last forward pass, and whether it kept what backward needs.
    private var lastT: [Int] = []
    private(set) var keptActivations = false

    func forward(x: UnsafePointer<Float>, t: [Int], out: UnsafeMutablePointer<Float>, _ c: UNetContext) {
        let cf = config, P = cf.sampleSize * cf.sampleSize
        Tensor4.transpose(x, input.pointer, batch: c.batch, channels: cf.inChannels, pixels: P)
        if cf.centerInputSample { for i in 0..<input.count { input[i] = 2 * input[i] - 1 } }
        lastT = t
        run(t: t, out: out, c)
    }

    /// backward after a pass that kept nothing (evaluation) first repeats it keeping them, from
    /// the input it still holds and with its dropout masks: the same outputs, so the gradients
    /// are those of that pass.
    func keepActivations(_ c: UNetContext) {
        guard !keptActivations else { return }
        var k = c
        k.keeps = true; k.replaysDropout = true
        run(t: lastT, out: nil, k)
    }

    /// The forward pass from `input`; `out` (PyTorch layout) is written when given.
    private func run(t: [Int], out: UnsafeMutablePointer<Float>?, _ c: UNetContext) {
        let cf = config, B = c.batch, P = cf.sampleSize * cf.sampleSize, C0 = cf.blockOutChannels[0], T = cf.timeEmbedDim
        keptActivations = c.keeps
        timestepEmbedding(t)
        Linear.forward(x: tEmb.pointer, weight: c.p + linear1W, bias: c.p + linear1B, y: hidden.pointer, batch: B, inFeatures: C0, outFeatures: T)
        SiLU.forward(hidden.pointer, hiddenAct.pointer, sigmoid: hiddenSig.pointer, count: B * T)
        Linear.forward(x: hiddenAct.pointer, weight: c.p + linear2W, bias: c.p + linear2B, y: emb.pointer, batch: B, inFeatures: T, outFeatures: T)
        // Every ResnetBlock2D applies silu to temb first: once here for all of them.
        SiLU.forward(emb.pointer, embAct.pointer, sigmoid: embSig.pointer, count: B * T)
        convIn.forward(input.pointer, h0.pointer, c)
        var h = UnsafePointer(h0.pointer)
        for b in down { b.forward(h, tembAct: embAct.pointer, c); h = UnsafePointer(b.output.pointer) }
        mid.forward(h, tembAct: embAct.pointer, c)
        h = UnsafePointer(mid.output.pointer)
        var hC = cf.blockOutChannels.last!
        for (i, b) in up.enumerated() {
            b.forward(h, hChannels: hC, tembAct: embAct.pointer, c)
            h = UnsafePointer(b.output.pointer); hC = cf.reversedChannels[i]
        }
        normOut.forward(h, saved: normOutSaved!, pixels: P, c)
        convOut.forward(normOutSaved!.out.pointer, outCBHW.pointer, c)
        if let out { Tensor4.transpose(outCBHW.pointer, out, batch: B, channels: cf.outChannels, pixels: P, inverse: true) }
    }

    func backward(dOut: UnsafePointer<Float>, _ c: UNetContext) {
        keepActivations(c)
        let cf = config, B = c.batch, P = cf.sampleSize * cf.sampleSize, C0 = cf.blockOutChannels[0], T = cf.timeEmbedDim
        Tensor4.transpose(dOut, path.cur.pointer, batch: B, channels: cf.outChannels, pixels: P)
        convOut.backward(dy: path.cur.pointer, x: normOutSaved!.out.pointer, dx: path.other.pointer, c)
        path.swap()
        normOut.backward(dy: path.cur.pointer, saved: normOutSaved!, dx: path.other.pointer, pixels: P, c)
        path.swap()
        dEmbAct.pointer.update(repeating: 0, count: B * T)
        for b in up.reversed() { b.backward(path, tembAct: embAct.pointer, dTembAct: dEmbAct.pointer, c) }
        mid.backward(path, tembAct: embAct.pointer, dTembAct: dEmbAct.pointer, c)
        for b in down.reversed() { b.backward(path, tembAct: embAct.pointer, dTembAct: dEmbAct.pointer, c) }
        Tensor4.add(h0Grad.pointer, into: path.cur.pointer, count: h0Grad.count)
        convIn.backward(dy: path.cur.pointer, x: input.pointer, dx: nil, c)
        SiLU.backward(x: emb.pointer, sigmoid: embSig.pointer, dy: dEmbAct.pointer, dx: dTmp.pointer, count: B * T)
        Linear.backward(dy: dTmp.pointer, x: hiddenAct.pointer, weight: c.p + linear2W, dWeight: c.g + linear2W,
                        dBias: c.g + linear2B, dx: dTmp2.pointer, batch: B, inFeatures: T, outFeatures: T)
        SiLU.backward(x: hidden.pointer, sigmoid: hiddenSig.pointer, dy: dTmp2.pointer, dx: dTmp.pointer, count: B * T)
        Linear.backward(dy: dTmp.pointer, x: tEmb.pointer, weight: c.p + linear1W, dWeight: c.g + linear1W,
                        dBias: c.g + linear1B, dx: nil, batch: B, inFeatures: C0, outFeatures: T)
    }
}

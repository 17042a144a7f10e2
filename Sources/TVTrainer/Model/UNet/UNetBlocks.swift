import Foundation

/// The two [C, B·H·W] buffers the backward pass moves the main-path gradient between. On entry to
/// a block's backward `cur` holds the gradient of its main output; on exit, of its input.
final class GradientPath {
    private(set) var cur: FloatBuffer
    private(set) var other: FloatBuffer
    init(count: Int) { cur = FloatBuffer(count: count); other = FloatBuffer(count: count) }
    func swap() { Swift.swap(&cur, &other) }
}

/// DeMe's channel-wise projection: a bias-free 1×1 convolution, C×C, initialised to the identity,
/// applied to a block's main output (never to the skip tensors the up path reads).
final class ChannelProjection {
    let conv: Conv2d
    private(set) var out = FloatBuffer(count: 0)
    init(_ l: inout ParameterLayout, _ name: String, channels: Int, height: Int, width: Int) {
        conv = Conv2d(&l, name, inChannels: channels, outChannels: channels, kernel: 1, padding: 0, inH: height, inW: width, bias: false)
    }
    func allocate(batch: Int) { out = FloatBuffer(count: conv.outChannels * batch * conv.inH * conv.inW) }
    func forward(_ x: UnsafePointer<Float>, _ c: UNetContext) { conv.forward(x, out.pointer, c) }
    func backward(_ path: GradientPath, x: UnsafePointer<Float>, _ c: UNetContext) {
        conv.backward(dy: path.cur.pointer, x: x, dx: path.other.pointer, c)
        path.swap()
    }
}

/// Parameter name of the projection after block `block` (e.g. "down_blocks.1"): tvtool's own key.
func projectionName(_ block: String) -> String { block + ".channel_projection" }

/// DownBlock2D / AttnDownBlock2D: `layers` × (resnet [→ attention]), each output a skip tensor,
/// then Downsample2D (strided 3×3 conv) whose output is the last skip tensor, except in the last block.
final class DownBlock {
    let resnets: [ResnetBlock]
    let attentions: [AttentionBlock]
    let downsample: Conv2d?
    let projection: ChannelProjection?
    private(set) var downOut = FloatBuffer(count: 0)
    /// Gradients of the skip tensors, written by the up blocks that read them.
    private(set) var skipGrads: [FloatBuffer] = []
    private var inputs: [UnsafePointer<Float>] = []

    init(_ l: inout ParameterLayout, index i: Int, config c: UNetConfig, inChannels: Int, size: Int) {
        let name = "down_blocks.\(i)", C = c.blockOutChannels[i], attn = c.downBlockTypes[i] == .attnDown
        var resnets: [ResnetBlock] = [], attentions: [AttentionBlock] = []
        for j in 0..<c.layersPerBlock {
            resnets.append(ResnetBlock(&l, "\(name).resnets.\(j)", inChannels: j == 0 ? inChannels : C, outChannels: C,
                                       tembChannels: c.timeEmbedDim, groups: c.normNumGroups, eps: Float(c.normEps),
                                       outputScale: 1, dropout: Float(c.dropout), height: size, width: size))
            if attn {
                attentions.append(AttentionBlock(&l, "\(name).attentions.\(j)", channels: C, headDim: c.headDim(C),
                                                 groups: c.normNumGroups, eps: Float(c.normEps), rescale: 1, pixels: size * size))
            }
        }
        // Module registration order puts attentions before resnets in diffusers' state dict; the
        // layout order here is tvtool's (names are what both sides match on).
        self.resnets = resnets; self.attentions = attentions
        let last = i == c.blockOutChannels.count - 1
        downsample = last ? nil : Conv2d(&l, "\(name).downsamplers.0.conv", inChannels: C, outChannels: C, kernel: 3,
                                         stride: 2, padding: c.downsamplePadding, inH: size, inW: size)
        let outSize = last ? size : size / 2
        projection = c.channelProjections ? ChannelProjection(&l, projectionName(name), channels: C, height: outSize, width: outSize) : nil
    }

    var channels: Int { resnets[0].outChannels }
    /// Output of layer j (after its attention).
    func layerOutput(_ j: Int) -> FloatBuffer { attentions.isEmpty ? resnets[j].out : attentions[j].y }
    /// The tensors this block hands to the up path, in order.
    var skips: [FloatBuffer] { (0..<resnets.count).map(layerOutput) + (downsample == nil ? [] : [downOut]) }
    var skipOutput: FloatBuffer { downsample == nil ? layerOutput(resnets.count - 1) : downOut }
    var output: FloatBuffer { projection?.out ?? skipOutput }

    func allocate(batch B: Int) {
        resnets.forEach { $0.allocate(batch: B) }; attentions.forEach { $0.allocate(batch: B) }
        if let d = downsample { downOut = FloatBuffer(count: d.outChannels * B * d.outH * d.outW) }
        projection?.allocate(batch: B)
        skipGrads = skips.map { FloatBuffer(count: $0.count) }
    }

    func forward(_ x: UnsafePointer<Float>, tembAct: UnsafePointer<Float>, _ c: UNetContext) {
        var h = x
        inputs = []
        for j in 0..<resnets.count {
            inputs.append(h)
            resnets[j].forward(h, tembAct: tembAct, c)
            if !attentions.isEmpty { attentions[j].forward(resnets[j].out.pointer, c) }
            h = UnsafePointer(layerOutput(j).pointer)
        }
        if let d = downsample { d.forward(h, downOut.pointer, c) }
        projection?.forward(skipOutput.pointer, c)
    }

    func backward(_ path: GradientPath, tembAct: UnsafePointer<Float>, dTembAct: UnsafeMutablePointer<Float>, _ c: UNetContext) {
        projection?.backward(path, x: skipOutput.pointer, c)
        Tensor4.add(skipGrads[skipGrads.count - 1].pointer, into: path.cur.pointer, count: skipGrads.last!.count)
        let L = resnets.count
        if let d = downsample {
            d.backward(dy: path.cur.pointer, x: layerOutput(L - 1).pointer, dx: path.other.pointer, c)
            path.swap()
            Tensor4.add(skipGrads[L - 1].pointer, into: path.cur.pointer, count: skipGrads[L - 1].count)
        }
        for j in stride(from: L - 1, through: 0, by: -1) {
            if !attentions.isEmpty {
                attentions[j].backward(dy: path.cur.pointer, x: resnets[j].out.pointer, dx: path.other.pointer, c)
                path.swap()
            }
            resnets[j].backward(dy: path.cur.pointer, x: inputs[j], dx: path.other.pointer, tembAct: tembAct, dTembAct: dTembAct, c)
            path.swap()
            if j > 0 { Tensor4.add(skipGrads[j - 1].pointer, into: path.cur.pointer, count: skipGrads[j - 1].count) }
        }
    }
}

/// UNetMidBlock2D: resnet → attention (unless add_attention is false) → resnet, with
/// mid_block_scale_factor as the resnets' output_scale_factor and the attention's rescale.
final class MidBlock {
    let resnets: [ResnetBlock]
    let attention: AttentionBlock?
    let projection: ChannelProjection?
    private var input: UnsafePointer<Float>?

    init(_ l: inout ParameterLayout, config c: UNetConfig, size: Int) {
        let C = c.blockOutChannels.last!, scale = Float(c.midBlockScaleFactor)
        func resnet(_ j: Int) -> ResnetBlock {
            ResnetBlock(&l, "mid_block.resnets.\(j)", inChannels: C, outChannels: C, tembChannels: c.timeEmbedDim,
                        groups: c.normNumGroups, eps: Float(c.normEps), outputScale: scale, dropout: Float(c.dropout),
                        height: size, width: size)
        }
        let r0 = resnet(0)
        attention = c.addAttention ? AttentionBlock(&l, "mid_block.attentions.0", channels: C, headDim: c.headDim(C),
                                                    groups: c.normNumGroups, eps: Float(c.normEps), rescale: scale,
                                                    pixels: size * size) : nil
        resnets = [r0, resnet(1)]
        projection = c.channelProjections ? ChannelProjection(&l, projectionName("mid_block"), channels: C, height: size, width: size) : nil
    }

    var output: FloatBuffer { projection?.out ?? resnets[1].out }
    private var middle: FloatBuffer { attention?.y ?? resnets[0].out }

    func allocate(batch B: Int) {
        resnets.forEach { $0.allocate(batch: B) }; attention?.allocate(batch: B); projection?.allocate(batch: B)
    }

    func forward(_ x: UnsafePointer<Float>, tembAct: UnsafePointer<Float>, _ c: UNetContext) {
        input = x
        resnets[0].forward(x, tembAct: tembAct, c)
        attention?.forward(resnets[0].out.pointer, c)
        resnets[1].forward(middle.pointer, tembAct: tembAct, c)
        projection?.forward(resnets[1].out.pointer, c)
    }

    func backward(_ path: GradientPath, tembAct: UnsafePointer<Float>, dTembAct: UnsafeMutablePointer<Float>, _ c: UNetContext) {
        projection?.backward(path, x: resnets[1].out.pointer, c)
        resnets[1].backward(dy: path.cur.pointer, x: middle.pointer, dx: path.other.pointer, tembAct: tembAct, dTembAct: dTembAct, c)
        path.swap()
        if let attention {
            attention.backward(dy: path.cur.pointer, x: resnets[0].out.pointer, dx: path.other.pointer, c)
            path.swap()
        }
        resnets[0].backward(dy: path.cur.pointer, x: input!, dx: path.other.pointer, tembAct: tembAct, dTembAct: dTembAct, c)
        path.swap()
    }
}

/// UpBlock2D / AttnUpBlock2D: `layers + 1` × (concat the next skip tensor → resnet [→ attention]),
/// then Upsample2D (nearest ×2, 3×3 conv) except in the last block.
final class UpBlock {
    let resnets: [ResnetBlock]
    let attentions: [AttentionBlock]
    let upsample: Conv2d?
    let projection: ChannelProjection?
    let pixels: Int
    private(set) var concats: [FloatBuffer] = []
    private(set) var upsampled = FloatBuffer(count: 0), upOut = FloatBuffer(count: 0)
    /// The skip tensors each resnet reads, and where their gradients go (set by the model).
    var skips: [(value: FloatBuffer, grad: FloatBuffer)] = []

    init(_ l: inout ParameterLayout, index i: Int, config c: UNetConfig, prevChannels: Int, skipChannels: [Int], size: Int) {
        let name = "up_blocks.\(i)", C = c.reversedChannels[i], attn = c.upBlockTypes[i] == .attnUp
        var resnets: [ResnetBlock] = [], attentions: [AttentionBlock] = []
        for j in 0...c.layersPerBlock {
            let inC = (j == 0 ? prevChannels : C) + skipChannels[j]
            resnets.append(ResnetBlock(&l, "\(name).resnets.\(j)", inChannels: inC, outChannels: C, tembChannels: c.timeEmbedDim,
                                       groups: c.normNumGroups, eps: Float(c.normEps), outputScale: 1, dropout: Float(c.dropout),
                                       height: size, width: size))
            if attn {
                attentions.append(AttentionBlock(&l, "\(name).attentions.\(j)", channels: C, headDim: c.headDim(C),
                                                 groups: c.normNumGroups, eps: Float(c.normEps), rescale: 1, pixels: size * size))
            }
        }
        self.resnets = resnets; self.attentions = attentions; pixels = size * size
        let last = i == c.blockOutChannels.count - 1
        upsample = last ? nil : Conv2d(&l, "\(name).upsamplers.0.conv", inChannels: C, outChannels: C, kernel: 3, padding: 1,
                                       inH: 2 * size, inW: 2 * size)
        let outSize = last ? size : 2 * size
        projection = c.channelProjections ? ChannelProjection(&l, projectionName(name), channels: C, height: outSize, width: outSize) : nil
    }

    func layerOutput(_ j: Int) -> FloatBuffer { attentions.isEmpty ? resnets[j].out : attentions[j].y }
    private var preProjection: FloatBuffer { upsample == nil ? layerOutput(resnets.count - 1) : upOut }
    var output: FloatBuffer { projection?.out ?? preProjection }

    func allocate(batch B: Int) {
        resnets.forEach { $0.allocate(batch: B) }; attentions.forEach { $0.allocate(batch: B) }
        concats = resnets.map { FloatBuffer(count: $0.inChannels * B * pixels) }
        if let u = upsample {
            upsampled = FloatBuffer(count: u.inChannels * B * 4 * pixels); upOut = FloatBuffer(count: u.outChannels * B * 4 * pixels)
        }
        projection?.allocate(batch: B)
    }

    func forward(_ x: UnsafePointer<Float>, hChannels: Int, tembAct: UnsafePointer<Float>, _ c: UNetContext) {
        var h = x, hC = hChannels
        for j in 0..<resnets.count {
            let cat = concats[j].pointer, n = hC * c.batch * pixels
            cat.update(from: h, count: n)
            (cat + n).update(from: skips[j].value.pointer, count: skips[j].value.count)
            resnets[j].forward(cat, tembAct: tembAct, c)
            if !attentions.isEmpty { attentions[j].forward(resnets[j].out.pointer, c) }
            h = UnsafePointer(layerOutput(j).pointer); hC = resnets[j].outChannels
        }
        if let u = upsample {
            Tensor4.upsampleNearest(h, upsampled.pointer, planes: u.inChannels * c.batch, height: u.inH / 2, width: u.inW / 2)
            u.forward(upsampled.pointer, upOut.pointer, c)
        }
        projection?.forward(preProjection.pointer, c)
    }

    func backward(_ path: GradientPath, tembAct: UnsafePointer<Float>, dTembAct: UnsafeMutablePointer<Float>, _ c: UNetContext) {
        projection?.backward(path, x: preProjection.pointer, c)
        if let u = upsample {
            u.backward(dy: path.cur.pointer, x: upsampled.pointer, dx: path.other.pointer, c)
            Tensor4.upsampleNearestBackward(path.other.pointer, path.cur.pointer, planes: u.inChannels * c.batch,
                                            height: u.inH / 2, width: u.inW / 2)
        }
        for j in stride(from: resnets.count - 1, through: 0, by: -1) {
            if !attentions.isEmpty {
                attentions[j].backward(dy: path.cur.pointer, x: resnets[j].out.pointer, dx: path.other.pointer, c)
                path.swap()
            }
            resnets[j].backward(dy: path.cur.pointer, x: concats[j].pointer, dx: path.other.pointer, tembAct: tembAct, dTembAct: dTembAct, c)
            path.swap()
            // d(concat) = [d(h); d(skip)]: the first part stays in the path, the second goes to the skip.
            let skip = skips[j], hCount = concats[j].count - skip.value.count
            skip.grad.pointer.update(from: path.cur.pointer + hCount, count: skip.value.count)
        }
    }
}

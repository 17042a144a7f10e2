import Foundation

/// The trainer's denoiser: an MLP over the flattened image with a sinusoidal timestep embedding
/// and residual blocks. All parameters live in one flat buffer (`parameters`, layout `layout`).
///
///     e    = sinusoidal(t)                          [B, E]
///     temb = time_embed.2( silu( time_embed.0(e) ) ) [B, d]
///     h0   = input(x) + temb
///     a_i  = norm_i(h_i)   (LayerNorm; only with config.blockNorm = .layer, else a_i = h_i)
///     v_i  = fc1_i( silu(a_i) ) [+ time_emb_proj_i( silu(temb) ) with timeConditioning .perBlock]
///     g_i  = h_i + fc2_i( silu(v_i) )                     i = 0..<blocks
///     h_i+1 = proj_i g_i   (DeMe projection, d×d, no bias; only when config.projections)
///     out  = output( silu(h_L) )                    [B, D]
///
/// With both options a block is ResnetBlock2D's pattern (norm, silu, layer, + time projection,
/// silu, layer, residual) with linear layers; without them, the model of files made before.
///
/// `forward` keeps the activations `backward` needs; `backward` overwrites `gradients`.
/// Not thread-safe (scratch buffers): use one instance per thread.
public final class MLPDenoiser: TrainableDenoiser {
    public static let architecture = "mlp"

    public let config: ModelConfig
    public let layout: ParameterLayout
    public let parameters: FloatBuffer
    public let gradients: FloatBuffer
    private var cache: ActivationCache?
    /// Set by `freezeTimeConditioning` (inference only).
    private var timeTable: TimeConditioningTable?
    private let offsets: Offsets
    private let embedding: SinusoidalEmbedding

    public static func validate(_ c: ModelConfig, source: String) throws(TrainerError) {
        guard c.hiddenWidth > 0, c.blocks >= 0 else { throw .badConfig(source: source, reason: "sizes must be positive") }
        guard c.timeEmbedding >= 2, c.timeEmbedding % 2 == 0 else {
            throw .badConfig(source: source, reason: "time embedding size must be even and at least 2")
        }
    }

    /// The parameter layout of a config, in checkpoint order.
    public static func layout(for c: ModelConfig) -> ParameterLayout {
        var l = ParameterLayout()
        let d = c.hiddenWidth
        l.add("time_embed.0.weight", [d, c.timeEmbedding]); l.add("time_embed.0.bias", [d])
        l.add("time_embed.2.weight", [d, d]); l.add("time_embed.2.bias", [d])
        l.add("input.weight", [d, c.dataDimension]); l.add("input.bias", [d])
        for i in 0..<c.blocks {
            if c.layerNormBlocks { l.add("blocks.\(i).norm.weight", [d]); l.add("blocks.\(i).norm.bias", [d]) }
            l.add("blocks.\(i).fc1.weight", [d, d]); l.add("blocks.\(i).fc1.bias", [d])
            if c.perBlockTime { l.add("blocks.\(i).time_emb_proj.weight", [d, d]); l.add("blocks.\(i).time_emb_proj.bias", [d]) }
            l.add("blocks.\(i).fc2.weight", [d, d]); l.add("blocks.\(i).fc2.bias", [d])
            if c.projections { l.add("blocks.\(i).proj.weight", [d, d]) }
        }
        l.add("output.weight", [c.dataDimension, d]); l.add("output.bias", [c.dataDimension])
        return l
    }

    /// A model with the given flat parameters (layout order), e.g. a merged parameter vector.
    public init(config: ModelConfig, parameters values: [Float]) {
        self.config = config
        layout = MLPDenoiser.layout(for: config)
        precondition(values.count == layout.count, "parameter count \(values.count) != \(layout.count)")
        parameters = FloatBuffer(values)
        gradients = FloatBuffer(count: layout.count)
        offsets = Offsets(layout, config: config)
        embedding = SinusoidalEmbedding(timesteps: config.timesteps, dimension: config.timeEmbedding)
    }

    public func replicaSharingParameters() -> MLPDenoiser { MLPDenoiser(sharingParametersOf: self) }

    init(sharingParametersOf other: MLPDenoiser) {
        config = other.config
        layout = other.layout
        parameters = other.parameters
        gradients = FloatBuffer(count: other.layout.count)
        offsets = other.offsets
        embedding = other.embedding
        // A frozen model's replica looks up the same table (both only read it; the shared
        // parameters no longer change).
        timeTable = other.timeTable
    }

    /// PyTorch's default nn.Linear initialisation, U(-1/sqrt(in), 1/sqrt(in)) for weight and bias,
    /// from the trainer's seeded generator; projections start as the identity, LayerNorms as
    /// weight 1, bias 0 (no draws, so older configs get the same values as before).
    public convenience init(config: ModelConfig, seed: UInt64) {
        let layout = MLPDenoiser.layout(for: config)
        var rng = TrainerRandom.derived(seed: seed, stream: 0x1417)
        var values = [Float](repeating: 0, count: layout.count)
        for e in layout.entries {
            if e.name.hasSuffix(".proj.weight") {
                let d = e.shape[0]
                for i in 0..<d { values[e.offset + i * d + i] = 1 }
                continue
            }
            if e.name.hasSuffix(".norm.weight") || e.name.hasSuffix(".norm.bias") {
                if e.name.hasSuffix("weight") { for j in 0..<e.count { values[e.offset + j] = 1 } }
                continue
            }
            // fan_in of a weight is its second dim; a bias uses its weight's fan_in.
            let weightName = e.name.hasSuffix(".bias") ? String(e.name.dropLast(4)) + "weight" : e.name
            let fanIn = layout.entry(weightName)!.shape[1]
            let bound = 1 / Float(fanIn).squareRoot()
            for j in 0..<e.count { values[e.offset + j] = (2 * rng.uniform() - 1) * bound }
        }
        self.init(config: config, parameters: values)
    }

    public func predictEpsilon(x: [Float], t: [Int]) -> [Float] {
        var out = [Float](repeating: 0, count: t.count * dataDimension)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in forward(x: xp.baseAddress!, t: t, out: op.baseAddress!) }
        }
        return out
    }

    // MARK: forward / backward

    private func p(_ offset: Int) -> UnsafeMutablePointer<Float> { parameters.pointer + offset }
    private func g(_ offset: Int) -> UnsafeMutablePointer<Float> { gradients.pointer + offset }

    /// out[B, D] = eps_theta(x, t); keeps activations for `backward`.
    public func forward(x: UnsafePointer<Float>, t: [Int], out: UnsafeMutablePointer<Float>) {
        let B = t.count, d = config.hiddenWidth, D = config.dataDimension, E = config.timeEmbedding
        if cache?.batch != B { cache = ActivationCache(config: config, batch: B) }
        let c = cache!
        let o = offsets
        c.input.pointer.update(from: x, count: B * D)
        precondition(t.allSatisfy { $0 >= 0 && $0 < config.timesteps }, "timestep outside [0, T)")
        let table = timeTable
        if let table {
            table.gather(t: t, temb: c.temb.pointer)
        } else {
            timeConditioning(t: t, cache: c)
        }
        let h0 = c.h[0].pointer
        Linear.forward(x: x, weight: p(o.inputW), bias: p(o.inputB), y: h0, batch: B, inFeatures: D, outFeatures: d)
        Elementwise.add(c.temb.pointer, into: h0, count: B * d)
        for i in 0..<config.blocks {
            let blk = c.blocks[i]
            let a = config.layerNormBlocks ? blk.a.pointer : c.h[i].pointer
            if config.layerNormBlocks {
                LayerNorm.forward(x: c.h[i].pointer, weight: p(o.normW[i]), bias: p(o.normB[i]), y: a,
                                  normalized: blk.xhat.pointer, inverseStd: blk.rstd.pointer, batch: B, features: d)
            }
            SiLU.forward(a, blk.u.pointer, sigmoid: blk.su.pointer, count: B * d)
            Linear.forward(x: blk.u.pointer, weight: p(o.fc1W[i]), bias: p(o.fc1B[i]),
                           y: blk.v.pointer, batch: B, inFeatures: d, outFeatures: d)
            if config.perBlockTime {
                if let table {
                    table.addProjection(block: i, t: t, bias: p(o.timeProjB[i]), into: blk.v.pointer)
                } else {
                    Linear.forward(x: c.tembAct.pointer, weight: p(o.timeProjW[i]), bias: p(o.timeProjB[i]),
                                   y: blk.v.pointer, accumulate: true, batch: B, inFeatures: d, outFeatures: d)
                }
            }
            SiLU.forward(blk.v.pointer, blk.w.pointer, sigmoid: blk.sv.pointer, count: B * d)
            let sum = config.projections ? blk.g.pointer : c.h[i + 1].pointer
            Linear.forward(x: blk.w.pointer, weight: p(o.fc2W[i]), bias: p(o.fc2B[i]),
                           y: sum, batch: B, inFeatures: d, outFeatures: d)
            Elementwise.add(c.h[i].pointer, into: sum, count: B * d)
            if config.projections {
                Linear.forward(x: sum, weight: p(o.projW[i]), bias: nil, y: c.h[i + 1].pointer,
                               batch: B, inFeatures: d, outFeatures: d)
            }
        }
        SiLU.forward(c.h[config.blocks].pointer, c.z.pointer, sigmoid: c.zSig.pointer, count: B * d)
        Linear.forward(x: c.z.pointer, weight: p(o.outputW), bias: p(o.outputB), y: out,
                       batch: B, inFeatures: d, outFeatures: D)
    }

    /// The time embedding path for the batch's timesteps: temb (and silu(temb) with per-block
    /// time), keeping what `backward` needs.
    private func timeConditioning(t: [Int], cache c: ActivationCache) {
        let B = t.count, d = config.hiddenWidth, E = config.timeEmbedding, o = offsets
        embedding.forward(t: t, into: c.embedding.pointer)
        Linear.forward(x: c.embedding.pointer, weight: p(o.time0W), bias: p(o.time0B),
                       y: c.timeHidden.pointer, batch: B, inFeatures: E, outFeatures: d)
        SiLU.forward(c.timeHidden.pointer, c.timeHiddenAct.pointer, sigmoid: c.timeHiddenSig.pointer, count: B * d)
        Linear.forward(x: c.timeHiddenAct.pointer, weight: p(o.time2W), bias: p(o.time2B),
                       y: c.temb.pointer, batch: B, inFeatures: d, outFeatures: d)
        if config.perBlockTime {
            SiLU.forward(c.temb.pointer, c.tembAct.pointer, sigmoid: c.tembSig.pointer, count: B * d)
        }
    }

    /// For a model whose parameters no longer change and that only runs forward (a consistency
    /// teacher): computes the time path once for every timestep and looks it up afterwards,
    /// which saves the time MLP and the per-block time projections (about 30 % of a forward
    /// pass with per-block time). Only where the products run in the tiled kernel, whose rows do
    /// not depend on the batch, and are at most one K block deep: there the outputs keep their bits. `backward` is then unavailable.
    public func freezeTimeConditioning() {
        // Products deeper than one K block add their blocks' sums into the output in turn, so a
        // looked-up product would sum in another order than the accumulating forward pass.
        guard MatrixProduct.tiled, timeTable == nil,
              max(config.hiddenWidth, config.timeEmbedding) <= MatrixProduct.kBlock else { return }
        let T = config.timesteps
        let c = ActivationCache(config: config, batch: T)
        let all = Array(0..<T)
        timeConditioning(t: all, cache: c)
        var projections: [FloatBuffer] = []
        if config.perBlockTime {
            let d = config.hiddenWidth
            for i in 0..<config.blocks {
                // The product alone (no bias): forward adds (v + bias) + product, the order of
                // the accumulating Linear.forward it replaces.
                let out = FloatBuffer(count: T * d)
                MatrixProduct.multiply(transposeA: false, transposeB: true, m: T, n: d, k: d, a: c.tembAct.pointer, lda: d,
                                       b: p(offsets.timeProjW[i]), ldb: d, bias: nil, accumulate: false, c: out.pointer, ldc: d)
                projections.append(out)
            }
        }
        timeTable = TimeConditioningTable(width: config.hiddenWidth, temb: c.temb, projections: projections)
    }

    /// Given dL/dout for the last `forward`, overwrites `gradients` with dL/dparameters.
    public func backward(dOut: UnsafePointer<Float>) {
        guard let c = cache else { preconditionFailure("backward before forward") }
        precondition(timeTable == nil, "backward on a model frozen for inference")
        let o = offsets
        let B = c.batch, d = config.hiddenWidth, D = config.dataDimension, E = config.timeEmbedding
        let dh = c.dh.pointer, tmp = c.dTmp.pointer, tmp2 = c.dTmp2.pointer
        // out = output(z), z = silu(h_L)
        Linear.backward(dy: dOut, x: c.z.pointer, weight: p(o.outputW), dWeight: g(o.outputW),
                        dBias: g(o.outputB), dx: tmp, batch: B, inFeatures: d, outFeatures: D)
        SiLU.backward(x: c.h[config.blocks].pointer, sigmoid: c.zSig.pointer, dy: tmp, dx: dh, count: B * d)
        for i in stride(from: config.blocks - 1, through: 0, by: -1) {
            let blk = c.blocks[i]
            // dh holds dL/dh_{i+1}; turn it into dL/dg_i (in place through tmp when projected).
            if config.projections {
                Linear.backward(dy: dh, x: blk.g.pointer, weight: p(o.projW[i]),
                                dWeight: g(o.projW[i]), dBias: nil, dx: tmp,
                                batch: B, inFeatures: d, outFeatures: d)
                dh.update(from: tmp, count: B * d)
            }
            // g_i = h_i + fc2(w), w = silu(v), v = fc1(u), u = silu(h_i)
            Linear.backward(dy: dh, x: blk.w.pointer, weight: p(o.fc2W[i]),
                            dWeight: g(o.fc2W[i]), dBias: g(o.fc2B[i]), dx: tmp,
                            batch: B, inFeatures: d, outFeatures: d)
            SiLU.backward(x: blk.v.pointer, sigmoid: blk.sv.pointer, dy: tmp, dx: tmp2, count: B * d)
            if config.perBlockTime {
                // silu(temb) feeds every block: its gradient is summed over the blocks.
                Linear.backward(dy: tmp2, x: c.tembAct.pointer, weight: p(o.timeProjW[i]),
                                dWeight: g(o.timeProjW[i]), dBias: g(o.timeProjB[i]), dx: c.dTembAct.pointer,
                                accumulate: i != config.blocks - 1, batch: B, inFeatures: d, outFeatures: d)
            }
            Linear.backward(dy: tmp2, x: blk.u.pointer, weight: p(o.fc1W[i]),
                            dWeight: g(o.fc1W[i]), dBias: g(o.fc1B[i]), dx: tmp,
                            batch: B, inFeatures: d, outFeatures: d)
            if config.layerNormBlocks {
                SiLU.backward(x: blk.a.pointer, sigmoid: blk.su.pointer, dy: tmp, dx: tmp2, count: B * d)
                LayerNorm.backward(dy: tmp2, normalized: blk.xhat.pointer, inverseStd: blk.rstd.pointer, weight: p(o.normW[i]),
                                   dWeight: g(o.normW[i]), dBias: g(o.normB[i]), dx: dh, accumulate: true, batch: B, features: d)
            } else {
                SiLU.backward(x: c.h[i].pointer, sigmoid: blk.su.pointer, dy: tmp, dx: dh, count: B * d, accumulate: true)
            }
        }
        // h0 = input(x) + temb
        Linear.backward(dy: dh, x: c.input.pointer, weight: p(o.inputW), dWeight: g(o.inputW),
                        dBias: g(o.inputB), dx: nil, batch: B, inFeatures: D, outFeatures: d)
        // dL/dtemb = dL/dh0 (+ the blocks' dL/dsilu(temb) through silu' with per-block time).
        var dTemb = UnsafePointer(dh)
        if config.perBlockTime && config.blocks > 0 {
            c.dTemb.pointer.update(from: dh, count: B * d)
            SiLU.backward(x: c.temb.pointer, sigmoid: c.tembSig.pointer, dy: c.dTembAct.pointer, dx: c.dTemb.pointer,
                          count: B * d, accumulate: true)
            dTemb = UnsafePointer(c.dTemb.pointer)
        }
        Linear.backward(dy: dTemb, x: c.timeHiddenAct.pointer, weight: p(o.time2W),
                        dWeight: g(o.time2W), dBias: g(o.time2B), dx: tmp,
                        batch: B, inFeatures: d, outFeatures: d)
        SiLU.backward(x: c.timeHidden.pointer, sigmoid: c.timeHiddenSig.pointer, dy: tmp, dx: tmp2, count: B * d)
        Linear.backward(dy: tmp2, x: c.embedding.pointer, weight: p(o.time0W),
                        dWeight: g(o.time0W), dBias: g(o.time0B), dx: nil,
                        batch: B, inFeatures: E, outFeatures: d)
    }
}

/// The activations one forward pass keeps for the backward pass, sized for one batch size.
final class ActivationCache {
    final class Block {
        let u, v, w, g, su, sv, a, xhat, rstd: FloatBuffer
        init(_ n: Int, batch: Int, projected: Bool, normed: Bool) {
            u = FloatBuffer(count: n); v = FloatBuffer(count: n); w = FloatBuffer(count: n)
            su = FloatBuffer(count: n); sv = FloatBuffer(count: n)
            g = FloatBuffer(count: projected ? n : 0)
            a = FloatBuffer(count: normed ? n : 0); xhat = FloatBuffer(count: normed ? n : 0)
            rstd = FloatBuffer(count: normed ? batch : 0)
        }
    }
    let batch: Int
    let input, embedding, timeHidden, timeHiddenAct, timeHiddenSig, temb, z, zSig, dh, dTmp, dTmp2: FloatBuffer
    /// Per-block time conditioning only: silu(temb), its sigmoid, and the backward's sums.
    let tembAct, tembSig, dTembAct, dTemb: FloatBuffer
    let h: [FloatBuffer]
    let blocks: [Block]

    init(config c: ModelConfig, batch B: Int) {
        batch = B
        let n = B * c.hiddenWidth
        input = FloatBuffer(count: B * c.dataDimension)
        embedding = FloatBuffer(count: B * c.timeEmbedding)
        timeHidden = FloatBuffer(count: n); timeHiddenAct = FloatBuffer(count: n); temb = FloatBuffer(count: n)
        timeHiddenSig = FloatBuffer(count: n); zSig = FloatBuffer(count: n)
        z = FloatBuffer(count: n); dh = FloatBuffer(count: n); dTmp = FloatBuffer(count: n); dTmp2 = FloatBuffer(count: n)
        h = (0...c.blocks).map { _ in FloatBuffer(count: n) }
        let m = c.perBlockTime ? n : 0
        tembAct = FloatBuffer(count: m); tembSig = FloatBuffer(count: m); dTembAct = FloatBuffer(count: m); dTemb = FloatBuffer(count: m)
        blocks = (0..<c.blocks).map { _ in Block(n, batch: B, projected: c.projections, normed: c.layerNormBlocks) }
    }
}

/// Offsets of every parameter tensor, resolved once (the passes run thousands of times a second).
struct Offsets {
    let time0W, time0B, time2W, time2B, inputW, inputB, outputW, outputB: Int
    let fc1W, fc1B, fc2W, fc2B, projW, normW, normB, timeProjW, timeProjB: [Int]

    init(_ l: ParameterLayout, config c: ModelConfig) {
        let blocks = c.blocks
        time0W = l.offset("time_embed.0.weight"); time0B = l.offset("time_embed.0.bias")
        time2W = l.offset("time_embed.2.weight"); time2B = l.offset("time_embed.2.bias")
        inputW = l.offset("input.weight"); inputB = l.offset("input.bias")
        outputW = l.offset("output.weight"); outputB = l.offset("output.bias")
        fc1W = (0..<blocks).map { l.offset("blocks.\($0).fc1.weight") }
        fc1B = (0..<blocks).map { l.offset("blocks.\($0).fc1.bias") }
        fc2W = (0..<blocks).map { l.offset("blocks.\($0).fc2.weight") }
        fc2B = (0..<blocks).map { l.offset("blocks.\($0).fc2.bias") }
        projW = c.projections ? (0..<blocks).map { l.offset("blocks.\($0).proj.weight") } : []
        normW = c.layerNormBlocks ? (0..<blocks).map { l.offset("blocks.\($0).norm.weight") } : []
        normB = c.layerNormBlocks ? (0..<blocks).map { l.offset("blocks.\($0).norm.bias") } : []
        timeProjW = c.perBlockTime ? (0..<blocks).map { l.offset("blocks.\($0).time_emb_proj.weight") } : []
        timeProjB = c.perBlockTime ? (0..<blocks).map { l.offset("blocks.\($0).time_emb_proj.bias") } : []
    }
}

/// A frozen model's time conditioning per timestep: temb [T, d] and, with per-block time, each
/// block's product silu(temb) W_i^T [T, d] (without its bias).
final class TimeConditioningTable {
    let width: Int
    let temb: FloatBuffer
    let projections: [FloatBuffer]

    init(width: Int, temb: FloatBuffer, projections: [FloatBuffer]) {
        self.width = width
        self.temb = temb
        self.projections = projections
    }

    func gather(t: [Int], temb out: UnsafeMutablePointer<Float>) {
        for (r, ti) in t.enumerated() { (out + r * width).update(from: temb.pointer + ti * width, count: width) }
    }

    /// v = (v + bias) + product, row by row.
    func addProjection(block i: Int, t: [Int], bias: UnsafePointer<Float>, into v: UnsafeMutablePointer<Float>) {
        let table = projections[i].pointer, d = width
        for (r, ti) in t.enumerated() {
            let row = v + r * d, product = table + ti * d
            for j in 0..<d { row[j] = (row[j] + bias[j]) + product[j] }
        }
    }
}

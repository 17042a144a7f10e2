import XCTest
@testable import TVTrainer

/// Every UNet parameter tensor's gradient against central finite differences of the MSE loss, on a
/// tiny config that switches on what the PyTorch fixture does not (DeMe's projections moved away
/// from the identity, downsample_padding 0, freq_shift 1 without flip, center_input_sample, two
/// heads, mid_block_scale_factor ≠ 1) and, separately, dropout with a replayed mask.
///
/// Directional derivatives per tensor, as for the MLP (GradientCheckTests): h = 1e-2 in float32
/// keeps rounding (~1e-7·L/h) and truncation (~h²) well below the 2 % tolerance.
final class UNetGradientCheckTests: XCTestCase {
    static func tinyConfig(dropout: Double = 0) -> UNetConfig {
        var c = UNetConfig(sampleSize: 8, blockOutChannels: [8, 16], downBlockTypes: [.down, .attnDown],
                           upBlockTypes: [.attnUp, .up], layersPerBlock: 1, attentionHeadDim: 8, normNumGroups: 4)
        c.downsamplePadding = 0; c.freqShift = 1; c.flipSinToCos = false; c.centerInputSample = true
        c.midBlockScaleFactor = 1.5; c.channelProjections = true; c.dropout = dropout
        return c
    }

    func check(_ config: UNetConfig, dropoutSeed: UInt64?) throws {
        try config.validate(source: "test")
        let model = UNet2DModel(config: config, seed: 21)
        var rng = TrainerRandom(seed: 4)
        // Projections away from the identity and norms away from 1/0, so no gradient is trivially simple.
        for e in model.layout.entries where e.name.contains("projection") || e.name.contains("norm") {
            for j in 0..<e.count { model.parameters[e.offset + j] += 0.2 * rng.normal() }
        }
        let B = 2, x = rng.normals(B * config.dataDimension), target = rng.normals(B * config.dataDimension), t = [5, 730]
        func loss(grad: Bool) -> Double {
            model.dropout = dropoutSeed.map { DropoutSource(seed: $0) }  // the same masks every pass
            let out = model.predictEpsilon(x: x, t: t)
            let (l, dOut) = UNetTestSupport.mse(out, target)
            if grad { dOut.withUnsafeBufferPointer { model.backward(dOut: $0.baseAddress!) } }
            return l
        }
        _ = loss(grad: true)
        let grads = model.gradients.array, theta = model.parameters.array
        let h: Float = 1e-2
        for e in model.layout.entries {
            var v = (0..<e.count).map { _ in rng.normal() }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            v = v.map { $0 / norm }
            func shifted(_ s: Float) -> Double {
                var p = theta
                for j in 0..<e.count { p[e.offset + j] += s * v[j] }
                model.parameters.assign(p)
                return loss(grad: false)
            }
            let fd = (shifted(h) - shifted(-h)) / Double(2 * h)
            model.parameters.assign(theta)
            var analytic = 0.0
            for j in 0..<e.count { analytic += Double(grads[e.offset + j]) * Double(v[j]) }
            XCTAssertEqual(analytic, fd, accuracy: 2e-2 * abs(fd) + 2e-4, "gradient of \(e.name)")
        }
    }

    func testGradientsMatchFiniteDifferences() throws { try check(Self.tinyConfig(), dropoutSeed: nil) }

    func testGradientsWithDropoutMatchFiniteDifferences() throws { try check(Self.tinyConfig(dropout: 0.2), dropoutSeed: 77) }

    /// The evaluation pass (`predict`, behind predictEpsilon), which keeps nothing for backward,
    /// gives the training pass's outputs bit for bit; a backward after it (which repeats the pass
    /// keeping activations, with the same dropout masks) gives the same gradients too.
    func testEvaluationPassMatchesTrainingPassAndBackwardAfterIt() {
        for dropout in [0.0, 0.2] {
            let model = UNet2DModel(config: Self.tinyConfig(dropout: dropout), seed: 8)
            var rng = TrainerRandom(seed: 12)
            let t = [3, 400, 999], x = rng.normals(t.count * model.dataDimension), dOut = rng.normals(x.count)
            func source() -> DropoutSource? { dropout > 0 ? DropoutSource(seed: 5) : nil }
            var trained = [Float](repeating: 0, count: x.count)
            model.dropout = source()
            x.withUnsafeBufferPointer { xp in trained.withUnsafeMutableBufferPointer { model.forward(x: xp.baseAddress!, t: t, out: $0.baseAddress!) } }
            dOut.withUnsafeBufferPointer { model.backward(dOut: $0.baseAddress!) }
            let gradients = model.gradients.array
            model.gradients.assign([Float](repeating: 0, count: gradients.count))
            model.dropout = source()
            XCTAssertEqual(model.predictEpsilon(x: x, t: t), trained, "dropout \(dropout)")
            dOut.withUnsafeBufferPointer { model.backward(dOut: $0.baseAddress!) }
            XCTAssertEqual(model.gradients.array, gradients, "dropout \(dropout)")
        }
    }

    func testProjectionsAreIdentityAtInitAndLeaveOutputsUnchanged() throws {
        var plain = Self.tinyConfig()
        plain.channelProjections = false
        let withProj = UNet2DModel(config: Self.tinyConfig(), seed: 3)
        let names = withProj.layout.entries.map(\.name).filter { $0.hasSuffix(".channel_projection.weight") }
        XCTAssertEqual(names, ["down_blocks.0.channel_projection.weight", "down_blocks.1.channel_projection.weight",
                               "mid_block.channel_projection.weight", "up_blocks.0.channel_projection.weight",
                               "up_blocks.1.channel_projection.weight"])
        // Same values under the shared names: outputs must be identical with identity projections.
        let plainLayout = UNet2DModel.layout(for: plain)
        var values = [Float](repeating: 0, count: plainLayout.count)
        for e in plainLayout.entries {
            let src = withProj.layout.entry(e.name)!
            for j in 0..<e.count { values[e.offset + j] = withProj.parameters[src.offset + j] }
        }
        let base = UNet2DModel(config: plain, parameters: values)
        var rng = TrainerRandom(seed: 8)
        let x = rng.normals(2 * plain.dataDimension)
        XCTAssertEqual(withProj.predictEpsilon(x: x, t: [1, 999]), base.predictEpsilon(x: x, t: [1, 999]))
    }

    /// A replica shares the parameters; running each half of a batch in its own instance gives the
    /// same outputs as the whole batch in one.
    func testReplicaOnBatchHalvesMatchesWholeBatch() {
        let model = UNet2DModel(config: Self.tinyConfig(), seed: 2)
        let replica = UNet2DModel(sharingParametersOf: model)
        var rng = TrainerRandom(seed: 1)
        let D = model.dataDimension, x = rng.normals(4 * D), t = [0, 10, 500, 999]
        let whole = model.predictEpsilon(x: x, t: t)
        let a = model.predictEpsilon(x: Array(x[0..<(2 * D)]), t: [0, 10])
        let b = replica.predictEpsilon(x: Array(x[(2 * D)...]), t: [500, 999])
        for (u, w) in zip(a + b, whole) { XCTAssertEqual(u, w, accuracy: 1e-5 * max(1, abs(w))) }
        model.parameters[0] += 1
        XCTAssertEqual(replica.parameters[0], model.parameters[0])
    }
}

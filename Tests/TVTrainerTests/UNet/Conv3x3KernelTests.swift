import CKernels
import Foundation
import XCTest
@testable import TVTrainer

/// CKernels' direct 3×3 convolution (forward, input gradient, weight gradient) against the
/// im2col + OpenBLAS sgemm path it replaces, at both vector widths, on shapes that exercise the
/// masked row ends (widths not a multiple of 8 or 16), channel counts that leave partial weight
/// blocks, and accumulation into dx.
final class Conv3x3KernelTests: XCTestCase {
    override func tearDown() {
        tv_allow_avx512(1)
        Conv2d.directKernels = nil
    }

    func random(_ n: Int, seed: UInt64) -> FloatBuffer {
        var rng = TrainerRandom(seed: seed)
        return FloatBuffer((0..<n).map { _ in 2 * rng.uniform() - 1 })
    }

    /// Runs forward and backward of one conv on the chosen path; returns y, dx, dW, db.
    func run(_ conv: Conv2d, params: FloatBuffer, x: FloatBuffer, dy: FloatBuffer, dx0: FloatBuffer, batch: Int,
             direct: Bool) -> [[Float]] {
        Conv2d.directKernels = direct
        let grads = FloatBuffer(count: params.count)
        let ws = UNetWorkspace(activation: 0, col: conv.columnNeed(batch: batch) + conv.dyColumnNeed(batch: batch),
                               scores: 0, flipped: conv.flippedNeed, padded: conv.paddedNeed(batch: batch), packed: conv.packedNeed)
        let c = UNetContext(p: params.pointer, g: grads.pointer, ws: ws, batch: batch, dropout: nil)
        let y = FloatBuffer(count: conv.outChannels * batch * conv.outH * conv.outW)
        conv.forward(x.pointer, y.pointer, c)
        let dx = FloatBuffer(dx0.array)
        conv.backward(dy: dy.pointer, x: x.pointer, dx: dx.pointer, accumulate: true, c)
        let dxOver = FloatBuffer(count: dx0.count)
        conv.backward(dy: dy.pointer, x: x.pointer, dx: dxOver.pointer, accumulate: false, c)
        return [y.array, dx.array, dxOver.array, grads.array]
    }

    func testDirectKernelsMatchIm2colPath() throws {
        try XCTSkipUnless(tv_conv3x3_available() != 0, "no AVX2 + FMA: only the im2col path runs here")
        // (cin, cout, batch, h, w)
        // Widths 16 and 32 with cin 16/32 take the unmasked (full-vector) tiles at both widths.
        let shapes = [(3, 32, 2, 8, 8), (5, 7, 3, 5, 13), (9, 3, 1, 17, 17), (16, 9, 2, 4, 33), (2, 17, 2, 3, 1), (8, 8, 1, 1, 20),
                      (16, 13, 2, 3, 16), (32, 7, 1, 2, 32)]
        for avx512: Int32 in [1, 0] {
            tv_allow_avx512(avx512)
            for (i, s) in shapes.enumerated() {
                var layout = ParameterLayout()
                let conv = Conv2d(&layout, "c", inChannels: s.0, outChannels: s.1, kernel: 3, padding: 1, inH: s.3, inW: s.4)
                let params = random(layout.count, seed: UInt64(10 + i))
                let x = random(s.0 * s.2 * s.3 * s.4, seed: UInt64(20 + i)), dy = random(s.1 * s.2 * s.3 * s.4, seed: UInt64(30 + i))
                let dx0 = random(x.count, seed: UInt64(40 + i))
                let direct = run(conv, params: params, x: x, dy: dy, dx0: dx0, batch: s.2, direct: true)
                let im2col = run(conv, params: params, x: x, dy: dy, dx0: dx0, batch: s.2, direct: false)
                for (k, name) in ["y", "dx (accumulated)", "dx", "dW, db"].enumerated() {
                    XCTAssertEqual(direct[k].count, im2col[k].count)
                    let worst = zip(direct[k], im2col[k]).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                    XCTAssertLessThan(worst, 2e-5, "\(name), shape \(s), avx512 \(avx512)")
                }
            }
        }
    }

    /// The whole model through both paths: outputs and every gradient agree.
    func testUNetStepMatchesIm2colPath() throws {
        try XCTSkipUnless(tv_conv3x3_available() != 0, "no AVX2 + FMA: only the im2col path runs here")
        let config = UNetConfig(sampleSize: 8, blockOutChannels: [8, 16], downBlockTypes: [.down, .attnDown],
                                upBlockTypes: [.attnUp, .up], layersPerBlock: 1, attentionHeadDim: nil, normNumGroups: 4)
        let B = 3, D = config.inChannels * 64
        let x = random(B * D, seed: 5), dOut = random(B * D, seed: 6), t = [3, 500, 999]
        var results: [[Float]] = []
        for direct in [true, false] {
            Conv2d.directKernels = direct
            let model = UNet2DModel(config: config, seed: 1)
            let out = FloatBuffer(count: B * D)
            model.forward(x: x.pointer, t: t, out: out.pointer)
            model.backward(dOut: dOut.pointer)
            results.append(out.array); results.append(model.gradients.array)
        }
        // Normwise: the largest difference against the largest value, for the output and the gradients
        // (two float32 summation orders; GroupNorm amplifies differences in tiny-variance groups).
        for (k, name) in ["output", "gradients"].enumerated() {
            let a = results[k], b = results[k + 2]
            let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0, scale = b.map(abs).max() ?? 1
            XCTAssertLessThan(diff / scale, 2e-5, name)
        }
    }
}

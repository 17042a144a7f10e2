import CKernels
import Foundation
import XCTest
@testable import TVTrainer

/// CKernels' GroupNorm (+ SiLU) and softmax passes (unet_norm.h) against the Swift loops they
/// replace (GroupNorm.kernels = false), at both vector widths, on shapes whose pixel counts leave
/// scalar tails (1, 5, 13, 17) and full vectors (16, 64), with dx overwritten and accumulated.
final class UNetNormKernelTests: XCTestCase {
    override func tearDown() {
        tv_allow_avx512(1)
        GroupNorm.kernels = nil
    }

    func random(_ n: Int, seed: UInt64, scale: Float = 1, offset: Float = 0) -> FloatBuffer {
        var rng = TrainerRandom(seed: seed)
        return FloatBuffer((0..<n).map { _ in offset + scale * (2 * rng.uniform() - 1) })
    }

    func worst(_ a: [Float], _ b: [Float]) -> Float {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
    }

    /// Forward and backward (overwrite and accumulate) of GroupNorm, or NormSiLU with `silu`.
    func run(silu: Bool, kernels: Bool, channels: Int, groups: Int, batch: Int, pixels: Int, seed: UInt64) -> [[Float]] {
        GroupNorm.kernels = kernels
        var layout = ParameterLayout()
        let norm = GroupNorm(&layout, "n", channels: channels, groups: groups, eps: 1e-5)
        let params = random(layout.count, seed: seed, scale: 1, offset: 0.5), grads = FloatBuffer(count: layout.count)
        let n = channels * batch * pixels
        // An offset input (mean far from 0) checks the two-pass variance.
        let x = random(n, seed: seed + 1, scale: 3, offset: 2), dy = random(n, seed: seed + 2), dx0 = random(n, seed: seed + 3)
        let c = UNetContext(p: params.pointer, g: grads.pointer, ws: UNetWorkspace(activation: 0, col: 0, scores: 0, flipped: 0),
                            batch: batch, dropout: nil)
        let dxOver = FloatBuffer(count: n), dxAcc = FloatBuffer(dx0.array)
        var results: [[Float]] = []
        if silu {
            let op = NormSiLU(norm: norm), s = op.saved(batch: batch, pixels: pixels)
            XCTAssertEqual(s.fused, kernels)
            op.forward(x.pointer, saved: s, pixels: pixels, c)
            results.append(s.out.array)
            let d1 = FloatBuffer(dy.array), d2 = FloatBuffer(dy.array)
            op.backward(dy: d1.pointer, saved: s, dx: dxOver.pointer, pixels: pixels, c)
            results.append(dxOver.array); results.append(grads.array)
            op.backward(dy: d2.pointer, saved: s, dx: dxAcc.pointer, accumulate: true, pixels: pixels, c)
            results.append(dxAcc.array)
        } else {
            let s = norm.saved(batch: batch, pixels: pixels), y = FloatBuffer(count: n)
            norm.forward(x.pointer, y.pointer, saved: s, pixels: pixels, c)
            results.append(y.array); results.append(s.rstd.array)
            norm.backward(dy: dy.pointer, saved: s, dx: dxOver.pointer, pixels: pixels, c)
            results.append(dxOver.array); results.append(grads.array)
            norm.backward(dy: dy.pointer, saved: s, dx: dxAcc.pointer, accumulate: true, pixels: pixels, c)
            results.append(dxAcc.array)
        }
        return results
    }

    func testGroupNormAndNormSiLUKernelsMatchSwift() throws {
        try XCTSkipUnless(tv_unet_norm_available() != 0, "no AVX2 + FMA: only the Swift loops run here")
        // (channels, groups, batch, pixels)
        let shapes = [(8, 4, 3, 64), (6, 2, 2, 13), (4, 4, 1, 1), (16, 8, 2, 17), (32, 8, 2, 16), (3, 1, 4, 5)]
        for avx512: Int32 in [1, 0] {
            tv_allow_avx512(avx512)
            for silu in [false, true] {
                for (i, s) in shapes.enumerated() {
                    let seed = UInt64(100 + 10 * i)
                    let fast = run(silu: silu, kernels: true, channels: s.0, groups: s.1, batch: s.2, pixels: s.3, seed: seed)
                    let swift = run(silu: silu, kernels: false, channels: s.0, groups: s.1, batch: s.2, pixels: s.3, seed: seed)
                    for k in fast.indices {
                        XCTAssertLessThan(worst(fast[k], swift[k]), 2e-5, "output \(k), shape \(s), silu \(silu), avx512 \(avx512)")
                    }
                }
            }
        }
    }

    func testSoftmaxKernelsMatchSwiftAndSumToOne() throws {
        try XCTSkipUnless(tv_unet_norm_available() != 0, "no AVX2 + FMA: only the Swift loops run here")
        for avx512: Int32 in [1, 0] {
            tv_allow_avx512(avx512)
            for (rows, n) in [(3, 256), (5, 13), (2, 1), (4, 40)] {
                // Scores up to ±30: exp's range reduction and the max subtraction both matter.
                let scores = random(rows * n, seed: UInt64(n), scale: 30), grad = random(rows * n, seed: UInt64(n + 1))
                var outputs: [[Float]] = []
                for kernels in [true, false] {
                    GroupNorm.kernels = kernels
                    let p = FloatBuffer(scores.array), g = FloatBuffer(grad.array)
                    Softmax.rows(p.pointer, rows: rows, n)
                    Softmax.backwardRows(probs: p.pointer, grad: g.pointer, rows: rows, n)
                    outputs.append(p.array); outputs.append(g.array)
                }
                XCTAssertLessThan(worst(outputs[0], outputs[2]), 1e-6, "probabilities \(rows)×\(n), avx512 \(avx512)")
                XCTAssertLessThan(worst(outputs[1], outputs[3]), 1e-5, "gradients \(rows)×\(n), avx512 \(avx512)")
                for r in 0..<rows {
                    let total = outputs[0][(r * n)..<((r + 1) * n)].reduce(0, +)
                    XCTAssertEqual(total, 1, accuracy: 1e-5)
                }
            }
        }
    }
}

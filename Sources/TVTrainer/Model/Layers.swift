import CKernels
import COpenBLAS
import Foundation

// The building blocks of the denoiser, each with its forward and backward pass side by side.
// All tensors are row-major Float32 batches: x is [batch, features].

/// nn.Linear: y = x W^T + b with W stored [out, in] (PyTorch layout).
enum Linear {
    /// `accumulate` adds x W^T + b to y instead of overwriting it.
    static func forward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        y: UnsafeMutablePointer<Float>, accumulate: Bool = false, batch: Int, inFeatures: Int, outFeatures: Int) {
        MatrixProduct.multiply(transposeA: false, transposeB: true, m: batch, n: outFeatures, k: inFeatures,
                               a: x, lda: inFeatures, b: weight, ldb: inFeatures, bias: bias, accumulate: accumulate,
                               c: y, ldc: outFeatures)
    }

    /// Given dy: dW = dy^T x (overwritten), db = column sums of dy (overwritten), and, when `dx` is
    /// given, dx = dy W (overwritten, or accumulated when `accumulate`).
    static func backward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                         dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?,
                         dx: UnsafeMutablePointer<Float>?, accumulate: Bool = false,
                         batch: Int, inFeatures: Int, outFeatures: Int) {
        MatrixProduct.multiply(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: batch,
                               a: dy, lda: outFeatures, b: x, ldb: inFeatures, bias: nil, accumulate: false,
                               c: dWeight, ldc: inFeatures)
        if let dBias {
            dBias.update(repeating: 0, count: outFeatures)
            for r in 0..<batch {
                let row = dy + r * outFeatures
                for j in 0..<outFeatures { dBias[j] += row[j] }
            }
        }
        if let dx {
            MatrixProduct.multiply(transposeA: false, transposeB: false, m: batch, n: inFeatures, k: outFeatures,
                                   a: dy, lda: outFeatures, b: weight, ldb: inFeatures, bias: nil, accumulate: accumulate,
                                   c: dx, ldc: inFeatures)
        }
    }
}

/// SiLU (swish): y = x · s, s = sigmoid(x). The forward pass keeps s for the backward pass, so
/// each activation costs one exponential. Four lanes at a time (explicit SIMD matching the
/// baseline x86-64 SSE registers; the compiler does not vectorise the scalar form), scalar tail.
/// Where the CPU has AVX2 both passes run in the C kernels (8 or 16 lanes, same operations, same
/// bits); `portableForward`/`portableBackward` are the reference loops.
enum SiLU {
    static let vectorised = tv_silu_available() != 0

    static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, sigmoid s: UnsafeMutablePointer<Float>, count: Int) {
        if vectorised { tv_silu_forward(x, y, s, count) } else { portableForward(x, y, sigmoid: s, count: count) }
    }

    /// dx = dy · s (1 + x (1 - s)); `accumulate` adds into dx instead.
    static func backward(x: UnsafePointer<Float>, sigmoid s: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool = false) {
        if vectorised {
            tv_silu_backward(x, s, dy, dx, count, accumulate ? 1 : 0)
        } else {
            portableBackward(x: x, sigmoid: s, dy: dy, dx: dx, count: count, accumulate: accumulate)
        }
    }

    static func portableForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, sigmoid s: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 4 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD4<Float>.self)
            let si = 1 / (1 + FastMath.exp(-v))
            UnsafeMutableRawPointer(s + i).storeBytes(of: si, as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: v * si, as: SIMD4<Float>.self)
            i += 4
        }
        while i < count {
            let v = x[i]
            let si = 1 / (1 + FastMath.exp(-v))
            s[i] = si
            y[i] = v * si
            i += 1
        }
    }

    static func portableBackward(x: UnsafePointer<Float>, sigmoid s: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                 dx: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool) {
        if accumulate {
            for i in 0..<count { dx[i] += dy[i] * s[i] * (1 + x[i] * (1 - s[i])) }
        } else {
            for i in 0..<count { dx[i] = dy[i] * s[i] * (1 + x[i] * (1 - s[i])) }
        }
    }
}

/// A branch-free exp (glibc's expf is an opaque call per element). Cephes-style:
/// exp(x) = 2^n · p(r), n = round(x / ln 2), r = x - n ln 2 (ln 2 split in two parts), p of
/// degree 6; relative error about 2e-7 on [-87, 88], inputs clamped there. 2^n is built from the
/// bits of n + 1.5·2^23 (whose low mantissa bits hold n), avoiding a trapping float→int conversion.
enum FastMath {
    @inline(__always)
    static func exp(_ x0: SIMD4<Float>) -> SIMD4<Float> {
        var x = x0
        for k in 0..<4 { x[k] = Swift.min(Swift.max(x[k], -87), 88) }
        // Adding 1.5·2^23 rounds x/ln2 to the nearest integer in the low mantissa bits.
        let shifted = x * 1.442695041 + 12_582_912
        let n = shifted - 12_582_912
        let r = x - n * 0.693359375 + n * 2.12194440e-4
        var p = SIMD4<Float>(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * r * r + r + 1
        let bits = unsafeBitCast(shifted, to: SIMD4<UInt32>.self) &- 0x4B40_0000 &+ 127
        return p * unsafeBitCast(bits &<< 23, to: SIMD4<Float>.self)
    }

    /// The scalar form: one lane of the vector one (same operations, same bits).
    @inline(__always)
    static func exp(_ x: Float) -> Float { exp(SIMD4<Float>(repeating: x))[0] }
}

/// Sinusoidal timestep embedding (Transformer/DDPM style, no learnable parameters):
/// emb[k] = sin(t f_k), emb[half + k] = cos(t f_k), f_k = exp(-ln(10000) k / half).
/// Computed in Double once per timestep and kept in a table (T × E floats).
final class SinusoidalEmbedding {
    let dimension: Int
    let table: [Float]

    init(timesteps: Int, dimension: Int) {
        self.dimension = dimension
        let half = dimension / 2
        var t = [Float](repeating: 0, count: timesteps * dimension)
        for ti in 0..<timesteps {
            for k in 0..<half {
                let a = Double(ti) * Foundation.exp(-Foundation.log(10000.0) * Double(k) / Double(half))
                t[ti * dimension + k] = Float(Foundation.sin(a))
                t[ti * dimension + half + k] = Float(Foundation.cos(a))
            }
        }
        table = t
    }

    func forward(t: [Int], into out: UnsafeMutablePointer<Float>) {
        table.withUnsafeBufferPointer { tab in
            for (r, ti) in t.enumerated() { (out + r * dimension).update(from: tab.baseAddress! + ti * dimension, count: dimension) }
        }
    }
}

/// Elementwise helpers used by the model and the losses.
enum Elementwise {
    static func add(_ a: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += a[i] }
    }
}

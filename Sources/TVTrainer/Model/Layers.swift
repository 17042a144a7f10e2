import COpenBLAS
import Foundation

// The building blocks of the denoiser, each with its forward and backward pass side by side.
// All tensors are row-major Float32 batches: x is [batch, features].

/// nn.Linear: y = x W^T + b with W stored [out, in] (PyTorch layout).
enum Linear {
    static func forward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        y: UnsafeMutablePointer<Float>, batch: Int, inFeatures: Int, outFeatures: Int) {
        if let bias {
            for r in 0..<batch { (y + r * outFeatures).update(from: bias, count: outFeatures) }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(outFeatures), Int32(inFeatures),
                    1, x, Int32(inFeatures), weight, Int32(inFeatures), bias == nil ? 0 : 1, y, Int32(outFeatures))
    }

    /// Given dy: dW = dy^T x (overwritten), db = column sums of dy (overwritten), and, when `dx` is
    /// given, dx = dy W (overwritten, or accumulated when `accumulate`).
    static func backward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                         dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?,
                         dx: UnsafeMutablePointer<Float>?, accumulate: Bool = false,
                         batch: Int, inFeatures: Int, outFeatures: Int) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outFeatures), Int32(inFeatures), Int32(batch),
                    1, dy, Int32(outFeatures), x, Int32(inFeatures), 0, dWeight, Int32(inFeatures))
        if let dBias {
            dBias.update(repeating: 0, count: outFeatures)
            for r in 0..<batch {
                let row = dy + r * outFeatures
                for j in 0..<outFeatures { dBias[j] += row[j] }
            }
        }
        if let dx {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(batch), Int32(inFeatures), Int32(outFeatures),
                        1, dy, Int32(outFeatures), weight, Int32(inFeatures), accumulate ? 1 : 0, dx, Int32(inFeatures))
        }
    }
}

/// SiLU (swish): y = x · sigmoid(x).
enum SiLU {
    static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let v = x[i]; y[i] = v / (1 + expf(-v)) }
    }

    /// dx = dy · s (1 + x (1 - s)), s = sigmoid(x); `accumulate` adds into dx instead.
    static func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                         count: Int, accumulate: Bool = false) {
        for i in 0..<count {
            let v = x[i]
            let s = 1 / (1 + expf(-v))
            let g = dy[i] * s * (1 + v * (1 - s))
            dx[i] = accumulate ? dx[i] + g : g
        }
    }
}

/// Sinusoidal timestep embedding (Transformer/DDPM style, no learnable parameters):
/// emb[k] = sin(t f_k), emb[half + k] = cos(t f_k), f_k = exp(-ln(10000) k / half).
enum SinusoidalEmbedding {
    static func forward(t: [Int], dimension: Int, into out: UnsafeMutablePointer<Float>) {
        let half = dimension / 2
        for (r, ti) in t.enumerated() {
            let row = out + r * dimension
            for k in 0..<half {
                let f = exp(-log(10000.0) * Double(k) / Double(half))
                let a = Double(ti) * f
                row[k] = Float(sin(a))
                row[half + k] = Float(cos(a))
            }
        }
    }
}

/// Elementwise helpers used by the model and the losses.
enum Elementwise {
    static func add(_ a: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += a[i] }
    }
}

/// OpenBLAS thread count (sgemm is the only threaded part; elementwise loops are cheap here).
public enum BLASThreads {
    public static func set(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    public static var current: Int { Int(openblas_get_num_threads()) }
}

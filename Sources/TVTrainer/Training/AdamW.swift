import CKernels
import Foundation

/// AdamW hyper-parameters (PyTorch semantics: decoupled weight decay applied to every parameter).
public struct AdamWSettings: Codable, Sendable, Equatable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var weightDecay: Float
    public var epsilon: Float
    /// Global gradient-norm clipping threshold (nil: no clipping).
    public var gradientClip: Float?

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, weightDecay: Float = 0,
                epsilon: Float = 1e-8, gradientClip: Float? = 1.0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.weightDecay = weightDecay
        self.epsilon = epsilon
        self.gradientClip = gradientClip
    }

    /// The optimiser of the DeMe reference code: lr 5e-5, betas (0.95, 0.999), wd 1e-6, eps 1e-8, clip 1.0.
    public static let deme = AdamWSettings(learningRate: 5e-5, beta1: 0.95, beta2: 0.999, weightDecay: 1e-6,
                                           epsilon: 1e-8, gradientClip: 1.0)
}

/// AdamW state over a flat parameter vector: first and second moments and the step count.
public final class AdamW {
    public var settings: AdamWSettings
    public let m: FloatBuffer
    public let v: FloatBuffer
    /// Optimiser steps taken so far (the n of bias correction; 1-based after the first step).
    public private(set) var step: Int = 0

    public init(parameterCount: Int, settings: AdamWSettings) {
        self.settings = settings
        m = FloatBuffer(count: parameterCount)
        v = FloatBuffer(count: parameterCount)
    }

    /// Restores saved moments (for `--resume`).
    public func restore(m mValues: [Float], v vValues: [Float], step: Int) {
        m.assign(mValues); v.assign(vValues); self.step = step
    }

    /// One update of `params` with g = gradientScale · grads at learning rate `lr`:
    /// p -= lr·wd·p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²; p -= lr · m̂ / (sqrt(v̂) + eps).
    /// (`gradientScale` applies gradient clipping inside this pass instead of rewriting `grads`.)
    /// With `ema`, the same pass also updates the EMA shadow from the new p (shadow = d·shadow +
    /// (1-d)·p), saving a sweep over memory. With `threads` > 1 the (purely elementwise) pass is
    /// split into contiguous chunks run concurrently: results do not depend on the split.
    public func update(params: FloatBuffer, grads: FloatBuffer, lr: Float, gradientScale: Float = 1,
                       ema: (shadow: FloatBuffer, decay: Float)? = nil, threads: Int = 1) {
        step += 1
        let s = settings
        let c1 = 1 - pow(Double(s.beta1), Double(step))
        let c2 = 1 - pow(Double(s.beta2), Double(step))
        let k = Kernel(p: params.pointer, g: grads.pointer, m: m.pointer, v: v.pointer,
                       shadow: ema?.shadow.pointer, emaDecay: ema?.decay ?? 0,
                       gradientScale: gradientScale, stepSize: Float(Double(lr) / c1),
                       invSqrtC2: Float(1 / c2.squareRoot()), decay: 1 - lr * s.weightDecay,
                       b1: s.beta1, b2: s.beta2, eps: s.epsilon)
        ParallelChunks.run(count: params.count, threads: threads) { k.run($0) }
    }

    /// The fused AdamW (+ EMA) update over one index range.
    struct Kernel: @unchecked Sendable {
        let p, g, m, v: UnsafeMutablePointer<Float>
        let shadow: UnsafeMutablePointer<Float>?
        let emaDecay, gradientScale, stepSize, invSqrtC2, decay, b1, b2, eps: Float

        /// AVX/AVX-512 C kernel when the CPU has it: the sqrt and divide per parameter make this
        /// pass compute-bound at SSE width. Same operations, so the same bits as `runPortable`.
        static let vectorised = tv_adamw_available() != 0

        func run(_ range: Range<Int>) {
            guard Self.vectorised else { return runPortable(range) }
            var k = tv_adamw_constants(gradient_scale: gradientScale, beta1: b1, beta2: b2, step_size: stepSize,
                                       inv_sqrt_c2: invSqrtC2, eps: eps, decay: decay, ema_decay: emaDecay)
            let lo = range.lowerBound
            tv_adamw_update(p + lo, g + lo, m + lo, v + lo, shadow.map { $0 + lo }, &k, range.count)
        }

        func runPortable(_ range: Range<Int>) {
            // Four lanes at a time (baseline SSE width; the scalar loop does not vectorise), scalar tail.
            typealias V = SIMD4<Float>
            let mp = m, vp = v
            var i = range.lowerBound
            while i + 4 <= range.upperBound {
                let gi = gradientScale * UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
                let mi = b1 * UnsafeRawPointer(mp + i).loadUnaligned(as: V.self) + (1 - b1) * gi
                let vi = b2 * UnsafeRawPointer(vp + i).loadUnaligned(as: V.self) + (1 - b2) * gi * gi
                UnsafeMutableRawPointer(mp + i).storeBytes(of: mi, as: V.self)
                UnsafeMutableRawPointer(vp + i).storeBytes(of: vi, as: V.self)
                let pi = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
                let upd = pi * decay - stepSize * mi / (vi.squareRoot() * invSqrtC2 + eps)
                UnsafeMutableRawPointer(p + i).storeBytes(of: upd, as: V.self)
                if let sh = shadow {
                    let si = emaDecay * UnsafeRawPointer(sh + i).loadUnaligned(as: V.self) + (1 - emaDecay) * upd
                    UnsafeMutableRawPointer(sh + i).storeBytes(of: si, as: V.self)
                }
                i += 4
            }
            while i < range.upperBound {
                let gi = gradientScale * g[i]
                let mi = b1 * mp[i] + (1 - b1) * gi
                let vi = b2 * vp[i] + (1 - b2) * gi * gi
                mp[i] = mi; vp[i] = vi
                p[i] = p[i] * decay - stepSize * mi / (vi.squareRoot() * invSqrtC2 + eps)
                if let sh = shadow { sh[i] = emaDecay * sh[i] + (1 - emaDecay) * p[i] }
                i += 1
            }
        }
    }
}

/// Global L2 gradient-norm clipping (as torch.nn.utils.clip_grad_norm_): scales by
/// maxNorm / (norm + 1e-6) when norm > maxNorm. Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ grads: FloatBuffer, maxNorm: Float?) -> Float {
    let norm = gradientNorm(grads)
    let scale = clipScale(norm: norm, maxNorm: maxNorm)
    if scale != 1 {
        let g = grads.pointer
        for i in 0..<grads.count { g[i] *= scale }
    }
    return norm
}

/// The factor clipping applies for a gradient of norm `norm`: maxNorm / (norm + 1e-6) above the
/// threshold, else 1.
public func clipScale(norm: Float, maxNorm: Float?) -> Float {
    guard let maxNorm, norm > maxNorm else { return 1 }
    return maxNorm / (norm + 1e-6)
}

/// The global L2 norm of a gradient vector. Float lanes are summed per fixed block of 4096 and
/// the block sums accumulated in Double in block order, so the result is the same for any
/// `threads` (blocks are only distributed over threads, never re-split). With `adding`, first
/// sets grads += adding (elementwise, in the same pass) and returns the norm of the sum.
public func gradientNorm(_ grads: FloatBuffer, adding other: FloatBuffer? = nil, threads: Int = 1) -> Float {
    precondition(other == nil || other!.count == grads.count)
    let block = 4096
    let blocks = (grads.count + block - 1) / block
    let input = SendablePointer(grads.pointer)
    let addend = other.map { SendablePointer($0.pointer) }
    let count = grads.count
    let partials = UnsafeMutablePointer<Double>.allocate(capacity: max(blocks, 1))
    defer { partials.deallocate() }
    let out = SendablePointer(partials)
    ParallelChunks.run(count: blocks, threads: threads, alignment: 1, minimum: 4) { range in
        let g = input.pointer
        for b in range {
            let end = min((b + 1) * block, count)
            if let addend {
                let a = addend.pointer
                for i in (b * block)..<end { g[i] += a[i] }
            }
            var acc = SIMD16<Float>()
            var i = b * block
            while i + 16 <= end { let v = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD16<Float>.self); acc += v * v; i += 16 }
            var tail: Float = 0
            while i < end { tail += g[i] * g[i]; i += 1 }
            out.pointer[b] = Double(acc.sum()) + Double(tail)
        }
    }
    var sum = 0.0
    for b in 0..<blocks { sum += partials[b] }
    return Float(sum.squareRoot())
}

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
    public func update(params: FloatBuffer, grads: FloatBuffer, lr: Float, gradientScale: Float = 1) {
        step += 1
        let s = settings
        let c1 = 1 - pow(Double(s.beta1), Double(step))
        let c2 = 1 - pow(Double(s.beta2), Double(step))
        let stepSize = Float(Double(lr) / c1)
        let invSqrtC2 = Float(1 / c2.squareRoot())
        let decay = 1 - lr * s.weightDecay
        let p = params.pointer, g = grads.pointer, mp = m.pointer, vp = v.pointer
        let b1 = s.beta1, b2 = s.beta2, eps = s.epsilon
        // Four lanes at a time (baseline SSE width; the scalar loop does not vectorise), scalar tail.
        typealias V = SIMD4<Float>
        var i = 0
        while i + 4 <= params.count {
            let gi = gradientScale * UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
            let mi = b1 * UnsafeRawPointer(mp + i).loadUnaligned(as: V.self) + (1 - b1) * gi
            let vi = b2 * UnsafeRawPointer(vp + i).loadUnaligned(as: V.self) + (1 - b2) * gi * gi
            UnsafeMutableRawPointer(mp + i).storeBytes(of: mi, as: V.self)
            UnsafeMutableRawPointer(vp + i).storeBytes(of: vi, as: V.self)
            let pi = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
            let upd = pi * decay - stepSize * mi / (vi.squareRoot() * invSqrtC2 + eps)
            UnsafeMutableRawPointer(p + i).storeBytes(of: upd, as: V.self)
            i += 4
        }
        while i < params.count {
            let gi = gradientScale * g[i]
            let mi = b1 * mp[i] + (1 - b1) * gi
            let vi = b2 * vp[i] + (1 - b2) * gi * gi
            mp[i] = mi; vp[i] = vi
            p[i] = p[i] * decay - stepSize * mi / (vi.squareRoot() * invSqrtC2 + eps)
            i += 1
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

/// The global L2 norm of a gradient vector.
public func gradientNorm(_ grads: FloatBuffer) -> Float {
    // Float lanes summed per block of 4096, blocks accumulated in Double (fast and accurate enough).
    var sum = 0.0
    let g = grads.pointer
    var start = 0
    while start < grads.count {
        let end = min(start + 4096, grads.count)
        var acc = SIMD16<Float>()
        var i = start
        while i + 16 <= end { let v = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD16<Float>.self); acc += v * v; i += 16 }
        var tail: Float = 0
        while i < end { tail += g[i] * g[i]; i += 1 }
        sum += Double(acc.sum()) + Double(tail)
        start = end
    }
    return Float(sum.squareRoot())
}

import Foundation

/// NuSLERP (mergekit `nuslerp`): spherical interpolation between the task vectors of exactly two
/// models, theta + slerp(t, tau_1, tau_2) with t = w_2 / (w_1 + w_2) (0.5 when |w_1 + w_2| < 1e-6).
/// tvtool always has a base, so this is mergekit's form with `base_model` set.
///
/// `nuslerp_flatten` 1 (default): one angle for the whole flattened tensor. 0: one angle per
/// vector along the last axis (each row of a 2-D tensor), or, with `nuslerp_row_wise` 1, along the
/// first axis (each column of a 2-D tensor) — mergekit's naming and axes.
/// Per vector pair v0, v1: u = v / max(|v|, 1e-7); cos = clamp(u0·u1, -1, 1);
///   1 - cos² ≤ 1e-16 (colinear): (1-t) v0 + t v1, else (sin((1-t)θ) v0 + sin(tθ) v1) / sin θ.
struct NuSlerp: MergeMethod {
    let name = "nuslerp"
    let summary = "NuSLERP: slerp between two task vectors, t = w2/(w1+w2); per tensor, row or column (nuslerp_flatten, nuslerp_row_wise)"
    let parameters: [MethodParameter] = [.weight, Self.flatten, Self.rowWise]
    static let flatten = MethodParameter("nuslerp_flatten", .flag, default: 1, doc: "one angle for the whole tensor (0: per row or column)")
    static let rowWise = MethodParameter("nuslerp_row_wise", .flag, default: 0, doc: "with nuslerp_flatten 0: vectors along the first axis (columns)")

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 2, exactly: true) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        let w = try c.perModel(.weight)
        let total = w[0] + w[1]
        let t = Swift.abs(total) < 1e-6 ? 0.5 : w[1] / total
        let flatten = try c.flag(Self.flatten)
        let rowWise = try c.flag(Self.rowWise)
        let d = DenseTensor(c)
        var out = Array(UnsafeBufferPointer(start: d.base, count: d.count))
        let shape = d.shape
        // Vectors: `length` entries `stride` apart, one starting at each offset in `starts`.
        let length: Int, stride: Int, starts: [Int]
        if flatten || shape.count < 2 {
            (length, stride, starts) = (d.count, 1, [0])
        } else if rowWise {
            let inner = d.count / max(shape[0], 1)
            (length, stride, starts) = (shape[0], inner, Array(0..<inner))
        } else {
            let last = shape[shape.count - 1]
            (length, stride, starts) = (last, 1, Array(Swift.stride(from: 0, to: d.count, by: max(last, 1))))
        }
        guard length > 0 else { return .precomputed(out) }
        let v0 = d.deltas[0], v1 = d.deltas[1]
        for s in starts {
            var n0 = 0.0, n1 = 0.0, dot = 0.0
            for k in 0..<length {
                let a = v0[s + k * stride], b = v1[s + k * stride]
                n0 += a * a; n1 += b * b; dot += a * b
            }
            let (c0, c1) = Self.coefficients(t: t, dot: dot, norm0: n0.squareRoot(), norm1: n1.squareRoot())
            for k in 0..<length {
                let j = s + k * stride
                out[j] += c0 * v0[j] + c1 * v1[j]
            }
        }
        return .precomputed(out)
    }

    /// Weights of v0 and v1 (mergekit's nuslerp, eps 1e-8, norms clamped at 1e-7).
    static func coefficients(t: Double, dot: Double, norm0: Double, norm1: Double) -> (Double, Double) {
        let cosine = min(1, max(-1, dot / (max(norm0, 1e-7) * max(norm1, 1e-7))))
        if 1 - cosine * cosine <= 1e-16 { return (1 - t, t) }
        let theta = acos(cosine)
        let s = sin(theta)
        return (sin((1 - t) * theta) / s, sin(t * theta) / s)
    }
}

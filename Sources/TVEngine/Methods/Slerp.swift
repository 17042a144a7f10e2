import Foundation

/// Spherical interpolation between the base a and one model b, per tensor on the flattened
/// values: Ω = angle(a, b); sin((1-t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b, falling back to lerp when
/// |cos Ω| > 0.9995 or either tensor is zero. Like mergekit, the angle comes from the normalised
/// vectors and the weights apply to the unnormalised ones.
struct Slerp: MergeMethod {
    let name = "slerp"
    let summary = "spherical interpolation base -> model (exactly one model; lerp when |cos| > 0.9995)"
    let parameters: [MethodParameter] = [.t]

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1, exactly: true) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        let t = try c.scalar(.t)
        let g = c.statistics().gram
        // a = theta, b = theta + tau.
        let aa = g[0][0], ab = g[0][0] + g[0][1], bb = g[0][0] + 2 * g[0][1] + g[1][1]
        let (ca, cb) = Self.coefficients(t: t, aa: aa, ab: ab, bb: bb)
        // ca·a + cb·b = (ca + cb)·theta + cb·tau.
        return .linear(baseScale: ca + cb, coefficients: [cb])
    }

    /// Weights of a and b given |a|², a·b, |b|².
    static func coefficients(t: Double, aa: Double, ab: Double, bb: Double) -> (Double, Double) {
        let norms = (aa * bb).squareRoot()
        guard norms > 0, norms.isFinite else { return (1 - t, t) }
        let cosine = min(1, max(-1, ab / norms))
        if abs(cosine) > 0.9995 { return (1 - t, t) }
        let omega = acos(cosine)
        let s = sin(omega)
        return (sin((1 - t) * omega) / s, sin(t * omega) / s)
    }
}

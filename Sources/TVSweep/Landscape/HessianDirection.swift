import Foundation
import TVTrainer

/// The top Hessian eigenpair of an objective by power iteration on finite-difference
/// Hessian-vector products, H v ≈ (g(θ + h v) − g(θ − h v)) / 2h (central differences of
/// gradients: exact for a quadratic, O(h²) otherwise). Only gradients are needed, so memory is a
/// few parameter vectors. Power iteration converges to the eigenvalue of largest magnitude (for a
/// loss near a minimum, the sharpest curvature).
public enum HessianPowerIteration {
    public struct Result: Sendable {
        public var eigenvalue: Double
        /// Unit-length eigenvector (sign: largest |component| positive).
        public var vector: [Double]
        public var iterations: Int
        public var converged: Bool
    }

    /// - Parameters: `gradient(θ)` of the objective; `step` h in parameter units; stops when the
    ///   Rayleigh quotient changes by less than `tolerance` (relative) or after `maxIterations`.
    ///   `orthogonalTo`: unit vectors to project out (deflation, for the next eigenvector).
    public static func top(at theta: [Double], gradient: ([Double]) throws -> [Double], step h: Double,
                           maxIterations: Int = 100, tolerance: Double = 1e-6, seed: UInt64 = 0,
                           orthogonalTo others: [[Double]] = []) rethrows -> Result {
        let n = theta.count
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        func project(_ v: inout [Double]) {
            for o in others {
                let d = zip(v, o).reduce(0) { $0 + $1.0 * $1.1 }
                for i in 0..<n { v[i] -= d * o[i] }
            }
        }
        func normalise(_ v: inout [Double]) -> Double {
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { for i in 0..<n { v[i] /= norm } }
            return norm
        }
        var v = (0..<n).map { _ in uniform() }
        project(&v); _ = normalise(&v)
        var lambda = 0.0, converged = false, k = 0
        while k < maxIterations {
            k += 1
            let plus = try gradient((0..<n).map { theta[$0] + h * v[$0] })
            let minus = try gradient((0..<n).map { theta[$0] - h * v[$0] })
            var hv = (0..<n).map { (plus[$0] - minus[$0]) / (2 * h) }
            project(&hv)
            let next = zip(v, hv).reduce(0) { $0 + $1.0 * $1.1 }
            guard normalise(&hv) > 0 else { lambda = 0; converged = true; break }
            // A negative dominant eigenvalue flips v each step; follow the Rayleigh quotient's sign.
            if next < 0 { for i in 0..<n { hv[i] = -hv[i] } }
            let delta = abs(next - lambda)
            lambda = next
            v = hv
            if k > 1 && delta <= tolerance * max(abs(lambda), 1e-30) { converged = true; break }
        }
        if let m = v.max(by: { abs($0) < abs($1) }), m < 0 { v = v.map { -$0 } }
        return Result(eigenvalue: lambda, vector: v, iterations: k, converged: converged)
    }
}

/// The built-in objective's gradient: held-out epsilon-MSE of a trainer model on an evaluation set
/// (optionally only the triples whose t lies in `range`), L = mean over triples and values of
/// (eps_theta(x_t, t) − eps)², by the model's own backward pass, in Double.
public struct EpsilonMSEGradient {
    public let model: any TrainableDenoiser
    public let set: EvaluationSet
    public let range: TimestepRange?
    public let batchSize: Int

    /// `batchSize` nil: 256, or fewer for a model whose activations need it (a UNet's `evaluationBatchSize`).
    public init(model: any TrainableDenoiser, set: EvaluationSet, range: TimestepRange? = nil, batchSize: Int? = nil) {
        self.model = model.copy()
        self.set = set
        self.range = range
        self.batchSize = max(1, batchSize ?? min(256, model.evaluationBatchSize))
    }

    /// Triples that count.
    var included: [Int] { (0..<set.count).filter { range?.contains(set.t[$0]) ?? true } }

    public func gradient(at parameters: [Double]) -> [Double] {
        model.parameters.assign(parameters.map { Float($0) })
        let D = set.dimension, rows = included, schedule = model.config.makeSchedule()
        var g = [Double](repeating: 0, count: model.parameterCount)
        let scale = 2 / Float(max(rows.count, 1) * D)
        var start = 0
        while start < rows.count {
            let batch = Array(rows[start..<min(start + batchSize, rows.count)])
            let ts = batch.map { set.t[$0] }
            var x0 = [Float](), eps = [Float]()
            for r in batch { x0 += set.x0[(r * D)..<((r + 1) * D)]; eps += set.eps[(r * D)..<((r + 1) * D)] }
            var xt = [Float](repeating: 0, count: batch.count * D), out = xt
            x0.withUnsafeBufferPointer { xp in eps.withUnsafeBufferPointer { ep in xt.withUnsafeMutableBufferPointer {
                schedule.noise(x0: xp, eps: ep, t: ts, into: $0)
            } } }
            model.forward(x: xt, t: ts, out: &out)
            let dOut = (0..<out.count).map { scale * (out[$0] - eps[$0]) }
            model.backward(dOut: dOut)
            for i in 0..<g.count { g[i] += Double(model.gradients.pointer[i]) }
            start += batchSize
        }
        return g
    }
}

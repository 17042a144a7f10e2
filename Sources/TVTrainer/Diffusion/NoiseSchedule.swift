import Foundation

/// Which beta schedule a DDPM uses.
public enum BetaSchedule: String, Codable, Sendable, CaseIterable {
    /// Ho et al. 2020: betas linear from 1e-4 to 0.02.
    case linear
    /// Nichol & Dhariwal 2021: abar_t = cos²((t/T + s)/(1 + s) · π/2) with s = 0.008, betas clipped at 0.999.
    case cosine
}

/// The DDPM forward process: x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, for t in [0, T).
///
/// Timestep t (0-based) uses beta_t = betas[t]; abar_t = prod_{s<=t} (1 - beta_s). Values are
/// computed in Double and kept in Double for the samplers; Float copies feed the training loop.
public struct NoiseSchedule: Sendable, Equatable {
    public let kind: BetaSchedule
    public let betas: [Double]
    public let alphaBars: [Double]

    public var timesteps: Int { betas.count }

    public init(kind: BetaSchedule = .linear, timesteps: Int = 1000, betaStart: Double = 1e-4, betaEnd: Double = 0.02) {
        precondition(timesteps >= 2)
        self.kind = kind
        var b = [Double](repeating: 0, count: timesteps)
        switch kind {
        case .linear:
            for t in 0..<timesteps { b[t] = betaStart + (betaEnd - betaStart) * Double(t) / Double(timesteps - 1) }
        case .cosine:
            let s = 0.008
            func f(_ t: Double) -> Double { let c = cos((t / Double(timesteps) + s) / (1 + s) * Double.pi / 2); return c * c }
            for t in 0..<timesteps { b[t] = min(1 - f(Double(t + 1)) / f(Double(t)), 0.999) }
        }
        betas = b
        var ab = [Double](repeating: 0, count: timesteps)
        var prod = 1.0
        for t in 0..<timesteps { prod *= 1 - b[t]; ab[t] = prod }
        alphaBars = ab
    }

    /// sqrt(abar_t) and sqrt(1 - abar_t) as Floats.
    public func coefficients(_ t: Int) -> (signal: Float, noise: Float) {
        (Float(alphaBars[t].squareRoot()), Float((1 - alphaBars[t]).squareRoot()))
    }

    /// Writes x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps for each row (one timestep per row).
    public func noise(x0: UnsafeBufferPointer<Float>, eps: UnsafeBufferPointer<Float>, t: [Int],
                      into xt: UnsafeMutableBufferPointer<Float>) {
        let dim = x0.count / max(t.count, 1)
        for (row, ti) in t.enumerated() {
            let (a, s) = coefficients(ti)
            let base = row * dim
            for j in 0..<dim { xt[base + j] = a * x0[base + j] + s * eps[base + j] }
        }
    }
}

import Foundation

/// How to turn noise into samples with a denoiser.
public enum SamplerKind: Sendable, Equatable {
    /// DDPM ancestral sampling over all T steps with the posterior variance beta~_t.
    case ddpm
    /// DDIM (Song et al. 2021) on `steps` evenly spaced timesteps, stochasticity `eta` (0: deterministic).
    case ddim(steps: Int, eta: Double)
}

/// Generates samples: x_T ~ N(0, I), then the reverse process. Predicted x0 is clipped to [-1, 1]
/// at every step (diffusers' `clip_sample`). All randomness comes from `seed`, and batches draw
/// from one generator in order, so the output depends only on (seed, n, sampler, model).
public enum DiffusionSampler {
    public static func sample(_ denoiser: any Denoiser, schedule: NoiseSchedule, count n: Int, kind: SamplerKind,
                              seed: UInt64, batchSize: Int = 256, clip: Bool = true,
                              progress: ((Int) -> Void)? = nil) -> [Float] {
        let D = denoiser.dataDimension
        let batchSize = max(1, min(batchSize, denoiser.evaluationBatchSize))
        var rng = TrainerRandom.derived(seed: seed, stream: 0x5A3B)
        var out = [Float]()
        out.reserveCapacity(n * D)
        var done = 0
        while done < n {
            let b = min(batchSize, n - done)
            var x = rng.normals(b * D)
            switch kind {
            case .ddpm: ddpm(denoiser, schedule: schedule, x: &x, batch: b, rng: &rng, clip: clip)
            case let .ddim(steps, eta): ddim(denoiser, schedule: schedule, x: &x, batch: b, steps: steps, eta: eta, rng: &rng, clip: clip)
            }
            out.append(contentsOf: x)
            done += b
            progress?(b)
        }
        return out
    }

    /// x0 from x_t and predicted eps: (x_t - sqrt(1-abar) eps) / sqrt(abar), optionally clipped.
    static func predictX0(_ x: Float, _ e: Float, abar: Double, clip: Bool) -> Double {
        let v = (Double(x) - (1 - abar).squareRoot() * Double(e)) / abar.squareRoot()
        return clip ? min(1, max(-1, v)) : v
    }

    static func ddpm(_ model: any Denoiser, schedule s: NoiseSchedule, x: inout [Float], batch: Int,
                     rng: inout TrainerRandom, clip: Bool) {
        for t in stride(from: s.timesteps - 1, through: 0, by: -1) {
            let eps = model.predictEpsilon(x: x, t: [Int](repeating: t, count: batch))
            let abar = s.alphaBars[t], abarPrev = t > 0 ? s.alphaBars[t - 1] : 1
            let beta = s.betas[t], alpha = 1 - beta
            // Posterior q(x_{t-1} | x_t, x0): mean c0·x0 + ct·x_t, variance beta~ = (1-abar_prev)/(1-abar) beta.
            let c0 = abarPrev.squareRoot() * beta / (1 - abar)
            let ct = alpha.squareRoot() * (1 - abarPrev) / (1 - abar)
            let sigma = t > 0 ? ((1 - abarPrev) / (1 - abar) * beta).squareRoot() : 0
            for i in 0..<x.count {
                let x0 = predictX0(x[i], eps[i], abar: abar, clip: clip)
                var v = c0 * x0 + ct * Double(x[i])
                if t > 0 { v += sigma * Double(rng.normal()) }
                x[i] = Float(v)
            }
        }
    }

    /// The DDIM timestep sequence: 0, T/steps, 2T/steps, … (diffusers "leading" spacing), descending.
    public static func ddimTimesteps(total T: Int, steps: Int) -> [Int] {
        let k = max(1, min(steps, T))
        return (0..<k).map { $0 * (T / k) }.reversed()
    }

    static func ddim(_ model: any Denoiser, schedule s: NoiseSchedule, x: inout [Float], batch: Int, steps: Int,
                     eta: Double, rng: inout TrainerRandom, clip: Bool) {
        let ts = ddimTimesteps(total: s.timesteps, steps: steps)
        for (k, t) in ts.enumerated() {
            let eps = model.predictEpsilon(x: x, t: [Int](repeating: t, count: batch))
            let abar = s.alphaBars[t]
            let abarPrev = k + 1 < ts.count ? s.alphaBars[ts[k + 1]] : 1
            let sigma = eta * ((1 - abarPrev) / (1 - abar) * (1 - abar / abarPrev)).squareRoot()
            let dirCoef = max(0, 1 - abarPrev - sigma * sigma).squareRoot()
            for i in 0..<x.count {
                let x0 = predictX0(x[i], eps[i], abar: abar, clip: clip)
                // With clipping, re-derive eps from the clipped x0 so the step stays consistent.
                let e = clip ? (Double(x[i]) - abar.squareRoot() * x0) / (1 - abar).squareRoot() : Double(eps[i])
                var v = abarPrev.squareRoot() * x0 + dirCoef * e
                if sigma > 0 { v += sigma * Double(rng.normal()) }
                x[i] = Float(v)
            }
        }
    }
}

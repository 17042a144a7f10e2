import XCTest
@testable import TVTrainer

/// Samplers against an exact denoiser: for data x0 ~ N(0, σ² I) the optimal noise prediction is
/// eps*(x_t) = sqrt(1-abar) x_t / (abar σ² + 1 - abar), so correct samplers must return samples
/// with mean 0 and variance σ² (a wrong coefficient or timestep shift moves the variance).
final class SamplerTests: XCTestCase {
    final class GaussianOracle: Denoiser {
        let sigma2: Double
        let schedule: NoiseSchedule
        let dataDimension = 4
        init(sigma2: Double, schedule: NoiseSchedule) { self.sigma2 = sigma2; self.schedule = schedule }
        func predictEpsilon(x: [Float], t: [Int]) -> [Float] {
            x.enumerated().map { i, v in
                let ab = schedule.alphaBars[t[i / dataDimension]]
                return Float((1 - ab).squareRoot() * Double(v) / (ab * sigma2 + 1 - ab))
            }
        }
    }

    func moments(_ kind: SamplerKind) -> (Double, Double) {
        let schedule = NoiseSchedule()
        let oracle = GaussianOracle(sigma2: 0.09, schedule: schedule)
        let s = DiffusionSampler.sample(oracle, schedule: schedule, count: 1000, kind: kind, seed: 1, clip: false)
        let m = s.reduce(0) { $0 + Double($1) } / Double(s.count)
        let v = s.reduce(0) { $0 + pow(Double($1) - m, 2) } / Double(s.count)
        return (m, v)
    }

    /// DDIM with few steps is not exact even for Gaussian data: each step maps x_t to
    /// x_prev = k x_t (+ sigma z), so the variance follows v_prev = k² v_t + sigma², with
    /// k = sqrt(ab') c0 + sqrt(1 - ab' - sigma²) ce, x0^ = c0 x_t, eps^ = ce x_t. The samples must
    /// follow that recursion (from v = 1 at the first step), and approach σ² with many steps.
    func ddimVariance(steps: Int, eta: Double, sigma2: Double) -> Double {
        let s = NoiseSchedule()
        let ts = DiffusionSampler.ddimTimesteps(total: 1000, steps: steps)
        var v = 1.0
        for (k, t) in ts.enumerated() {
            let ab = s.alphaBars[t], abp = k + 1 < ts.count ? s.alphaBars[ts[k + 1]] : 1
            let vt = ab * sigma2 + 1 - ab
            let c0 = ab.squareRoot() * sigma2 / vt, ce = (1 - ab).squareRoot() / vt
            let sig2 = eta * eta * (1 - abp) / (1 - ab) * (1 - ab / abp)
            let gain = abp.squareRoot() * c0 + (1 - abp - sig2).squareRoot() * ce
            v = gain * gain * v + sig2
        }
        return v
    }

    func testDDIMDeterministicFollowsVarianceRecursion() {
        let (m, v) = moments(.ddim(steps: 50, eta: 0))
        XCTAssertEqual(m, 0, accuracy: 0.02)
        XCTAssertEqual(v, ddimVariance(steps: 50, eta: 0, sigma2: 0.09), accuracy: 0.006)
        XCTAssertLessThan(ddimVariance(steps: 50, eta: 0, sigma2: 0.09), 0.085)
        XCTAssertEqual(ddimVariance(steps: 1000, eta: 0, sigma2: 0.09), 0.09, accuracy: 0.005)
    }

    func testDDIMStochasticFollowsVarianceRecursion() {
        let (m, v) = moments(.ddim(steps: 50, eta: 1))
        XCTAssertEqual(m, 0, accuracy: 0.02)
        XCTAssertEqual(v, ddimVariance(steps: 50, eta: 1, sigma2: 0.09), accuracy: 0.006)
    }

    func testDDIMManyStepsRecoversVariance() {
        let (_, v) = moments(.ddim(steps: 250, eta: 0))
        XCTAssertEqual(v, 0.09, accuracy: 0.009)
    }

    func testDDPMAncestralRecoversVariance() {
        let (m, v) = moments(.ddpm)
        XCTAssertEqual(m, 0, accuracy: 0.02)
        XCTAssertEqual(v, 0.09, accuracy: 0.009)
    }

    func testSamplingIsSeeded() {
        let schedule = NoiseSchedule()
        let oracle = GaussianOracle(sigma2: 0.09, schedule: schedule)
        let a = DiffusionSampler.sample(oracle, schedule: schedule, count: 5, kind: .ddim(steps: 10, eta: 1), seed: 4)
        XCTAssertEqual(a, DiffusionSampler.sample(oracle, schedule: schedule, count: 5, kind: .ddim(steps: 10, eta: 1), seed: 4))
        XCTAssertNotEqual(a, DiffusionSampler.sample(oracle, schedule: schedule, count: 5, kind: .ddim(steps: 10, eta: 1), seed: 5))
    }

    func testScheduleValues() {
        let s = NoiseSchedule()
        XCTAssertEqual(s.betas[0], 1e-4, accuracy: 1e-15)
        XCTAssertEqual(s.betas[999], 0.02, accuracy: 1e-15)
        XCTAssertEqual(s.alphaBars[999], 4.0358e-5, accuracy: 1e-8)   // torch.cumprod(1 - linspace(1e-4, 0.02, 1000))[-1]
        XCTAssertEqual(DiffusionSampler.ddimTimesteps(total: 1000, steps: 50).prefix(2), [980, 960])
        XCTAssertEqual(DiffusionSampler.ddimTimesteps(total: 1000, steps: 50).last, 0)
    }
}

extension SamplerTests {
    func testCosineScheduleShape() {
        let s = NoiseSchedule(kind: .cosine)
        XCTAssertEqual(s.alphaBars[0], 1 - s.betas[0], accuracy: 1e-12)
        XCTAssertTrue(zip(s.alphaBars, s.alphaBars.dropFirst()).allSatisfy { $0 > $1 })
        XCTAssertLessThan(s.alphaBars[999], 1e-4)
        // abar_t = f(t+1)/f(0) with f the squared cosine (as long as no beta is clipped)
        func f(_ t: Double) -> Double { let c = cos((t / 1000 + 0.008) / 1.008 * Double.pi / 2); return c * c }
        XCTAssertEqual(s.alphaBars[499], f(500) / f(0), accuracy: 1e-9)
    }
}

import Foundation
import TVStorage

/// CMA-ES with Hansen's default strategy parameters ("The CMA Evolution Strategy: A Tutorial",
/// 2016, Table 1 and Eqs. 39–47; the same as purecma), searching the unit cube that maps to the
/// grid's box. Start: the box centre (or a given start point), sigma 0.3 (of the box width). Samples outside the box are
/// clamped to it and the clamped points enter the update (repair). Seeded: a replay with the
/// recorded values reproduces every generation.
final class CMAESProposer: Proposer {
    let box: SampleBox
    let n: Int
    /// Only the axes with a width take part; fixed axes stay at their single value.
    private let free: [Int]
    let lambda: Int, mu: Int
    let weights: [Double]
    let mueff, cc, cs, c1, cmu, damps, chiN: Double
    private(set) var mean: [Double]
    private(set) var sigma = 0.3
    private var C: [Double], B: [Double], D: [Double]
    private var pc: [Double], ps: [Double]
    private var rng: SplitMix64
    private var generation = 0
    private var lastUnit: [[Double]] = []
    private var done = false

    init(box: SampleBox, seed: UInt64, start: [Double]? = nil) {
        self.box = box
        let widths = box.width
        free = widths.indices.filter { widths[$0] > 0 }
        n = max(free.count, 1)
        let N = Double(n)
        let lam = 4 + Int(3 * log(N)), m = lam / 2
        lambda = lam
        mu = m
        let raw = (1...m).map { log(Double(lam + 1) / 2) - log(Double($0)) }
        let sum = raw.reduce(0, +)
        let w = raw.map { $0 / sum }
        weights = w
        let mueff = 1 / w.map { $0 * $0 }.reduce(0, +)
        self.mueff = mueff
        cc = (4 + mueff / N) / (N + 4 + 2 * mueff / N)
        let cs = (mueff + 2) / (N + mueff + 5)
        self.cs = cs
        let c1 = 2 / ((N + 1.3) * (N + 1.3) + mueff)
        self.c1 = c1
        cmu = min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((N + 2) * (N + 2) + mueff))
        damps = 1 + 2 * max(0, ((mueff - 1) / (N + 1)).squareRoot() - 1) + cs
        chiN = N.squareRoot() * (1 - 1 / (4 * N) + 1 / (21 * N * N))
        mean = [Double](repeating: 0.5, count: n)
        if let start, !free.isEmpty {
            // The start point in the unit cube of the free axes.
            mean = free.map { min(max((start[$0] - box.lower[$0]) / widths[$0], 0), 1) }
        }
        C = Self.identity(n); B = Self.identity(n); D = [Double](repeating: 1, count: n)
        pc = [Double](repeating: 0, count: n); ps = pc
        rng = SplitMix64(seed: seed)
    }

    var mayContinue: Bool { !done }

    func next(after values: [Double]?) -> [[Double]]? {
        if let values { update(values) }
        // Converged below the coordinate snapping (1e-6 of the width): nothing new to propose.
        if done || sigma * (D.max() ?? 1) < 1e-6 || free.isEmpty && values != nil { done = true; return nil }
        lastUnit = (0..<lambda).map { _ in
            let z = (0..<n).map { _ in rng.normal() }
            var x = mean
            for i in 0..<n { for j in 0..<n { x[i] += sigma * B[i * n + j] * D[j] * z[j] } }
            return snapUnit(x.map { min(max($0, 0), 1) })
        }
        return lastUnit.map(coordinates)
    }

    private func update(_ values: [Double]) {
        generation += 1
        let order = values.indices.sorted { (values[$0], $0) < (values[$1], $1) }
        let old = mean
        mean = (0..<n).map { i in (0..<mu).reduce(0) { $0 + weights[$1] * lastUnit[order[$1]][i] } }
        let y = (0..<n).map { (mean[$0] - old[$0]) / sigma }
        // C^{-1/2} y = B D^{-1} B^T y
        var bty = [Double](repeating: 0, count: n)
        for j in 0..<n { for i in 0..<n { bty[j] += B[i * n + j] * y[i] } }
        for j in 0..<n { bty[j] /= D[j] }
        var invSqrtCy = [Double](repeating: 0, count: n)
        for i in 0..<n { for j in 0..<n { invSqrtCy[i] += B[i * n + j] * bty[j] } }
        let csFactor = (cs * (2 - cs) * mueff).squareRoot()
        for i in 0..<n { ps[i] = (1 - cs) * ps[i] + csFactor * invSqrtCy[i] }
        let psNorm = ps.map { $0 * $0 }.reduce(0, +).squareRoot()
        let hsig = psNorm / (1 - pow(1 - cs, 2 * Double(generation))).squareRoot() / chiN < 1.4 + 2 / (Double(n) + 1)
        let ccFactor = (cc * (2 - cc) * mueff).squareRoot()
        for i in 0..<n { pc[i] = (1 - cc) * pc[i] + (hsig ? ccFactor * y[i] : 0) }
        let ys = (0..<mu).map { k in (0..<n).map { (lastUnit[order[k]][$0] - old[$0]) / sigma } }
        let c1a = c1 * (hsig ? 1 : 1 - cc * (2 - cc))
        for i in 0..<n {
            for j in 0..<n {
                var rankMu = 0.0
                for k in 0..<mu { rankMu += weights[k] * ys[k][i] * ys[k][j] }
                C[i * n + j] = (1 - c1a - cmu) * C[i * n + j] + c1 * pc[i] * pc[j] + cmu * rankMu
            }
        }
        sigma *= exp(min(1, (cs / damps) * (psNorm / chiN - 1)))
        for i in 0..<n { for j in 0..<i { let s = (C[i * n + j] + C[j * n + i]) / 2; C[i * n + j] = s; C[j * n + i] = s } }
        let (ev, vec) = SymmetricEigen.decompose(C, n: n)
        B = vec
        D = ev.map { max($0, 1e-20).squareRoot() }
    }

    /// Snaps to the same 1e-6 grid as `SampleBox.place`, so the update sees the evaluated points.
    private func snapUnit(_ x: [Double]) -> [Double] { x.map { ($0 * 1e6).rounded() / 1e6 } }

    private func coordinates(_ unit: [Double]) -> [Double] {
        var full = [Double](repeating: 0, count: box.dimensions)
        for (k, i) in free.enumerated() { full[i] = unit[k] }
        return box.place(full)
    }

    private static func identity(_ n: Int) -> [Double] {
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n { m[i * n + i] = 1 }
        return m
    }
}

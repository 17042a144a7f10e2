/// nn.LayerNorm over the last dimension (eps 1e-5, elementwise affine): y = x̂ γ + β with
/// x̂ = (x - mean) / sqrt(var + eps), biased variance, per row. The forward pass keeps x̂ and
/// 1/sqrt(var + eps) for the backward pass. Row statistics are summed in Double.
enum LayerNorm {
    static let epsilon: Double = 1e-5

    static func forward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                        y: UnsafeMutablePointer<Float>, normalized xhat: UnsafeMutablePointer<Float>,
                        inverseStd rstd: UnsafeMutablePointer<Float>, batch: Int, features n: Int) {
        for r in 0..<batch {
            let xr = x + r * n, yr = y + r * n, hr = xhat + r * n
            var sum = 0.0
            for j in 0..<n { sum += Double(xr[j]) }
            let mean = sum / Double(n)
            var sq = 0.0
            for j in 0..<n { let c = Double(xr[j]) - mean; sq += c * c }
            let inv = 1 / (sq / Double(n) + epsilon).squareRoot()
            rstd[r] = Float(inv)
            for j in 0..<n {
                let h = Float((Double(xr[j]) - mean) * inv)
                hr[j] = h
                yr[j] = h * weight[j] + bias[j]
            }
        }
    }

    /// dγ = Σ_rows dy x̂, dβ = Σ_rows dy (both overwritten);
    /// dx = rstd (dx̂ - mean(dx̂) - x̂ mean(dx̂ x̂)) with dx̂ = dy γ (overwritten, or added when `accumulate`).
    static func backward(dy: UnsafePointer<Float>, normalized xhat: UnsafePointer<Float>, inverseStd rstd: UnsafePointer<Float>,
                         weight: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
                         dx: UnsafeMutablePointer<Float>, accumulate: Bool, batch: Int, features n: Int) {
        dWeight.update(repeating: 0, count: n)
        dBias.update(repeating: 0, count: n)
        for r in 0..<batch {
            let dyr = dy + r * n, hr = xhat + r * n, dxr = dx + r * n
            var m1 = 0.0, m2 = 0.0
            for j in 0..<n {
                dWeight[j] += dyr[j] * hr[j]
                dBias[j] += dyr[j]
                let g = Double(dyr[j] * weight[j])
                m1 += g; m2 += g * Double(hr[j])
            }
            m1 /= Double(n); m2 /= Double(n)
            let inv = Double(rstd[r])
            for j in 0..<n {
                let g = Double(dyr[j] * weight[j])
                let v = Float(inv * (g - m1 - Double(hr[j]) * m2))
                if accumulate { dxr[j] += v } else { dxr[j] = v }
            }
        }
    }
}

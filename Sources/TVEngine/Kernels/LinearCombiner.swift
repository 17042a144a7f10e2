/// The portable body of every linear plan (task arithmetic, soups, lerp, DeMe's merge):
/// out = baseScale · theta + Σ_i c_i tau_i over decoded chunks, in DeMe's (torch's) order:
/// acc = Σ_i c_i · tau_i with each tau_i = theta_i - theta in T, scaled, summed in model order,
/// then out = theta + acc (for baseScale 1), so F32 results are exactly what
/// `pretrained + sum(w * tau)` gives in torch or numpy before the one rounding to the output dtype.
/// The fused C kernel (`FusedLinear`) performs the same operations in the same order.
/// It receives raw model values and fuses tau_i = theta_i - theta into the accumulation.
struct LinearCombiner: ChunkCombiner {
    let baseScale: Double
    let coefficients: [Double]
    /// Per model: a task vector (added as is) rather than a checkpoint (base subtracted).
    let isTaskVector: [Bool]
    /// Per model: false when it lacks the tensor (a zero task vector: it contributes nothing).
    let present: [Bool]

    init(baseScale: Double, coefficients: [Double], isTaskVector: [Bool], present: [Bool]? = nil) {
        self.baseScale = baseScale
        self.coefficients = coefficients
        self.isTaskVector = isTaskVector
        self.present = present ?? isTaskVector.map { _ in true }
    }

    var wantsRawModels: Bool { true }

    func combine(_ chunk: DecodedChunk<Float>) { run(chunk) }
    func combine(_ chunk: DecodedChunk<Double>) { run(chunk) }

    @inline(__always)
    private func run<T: ComputeScalar>(_ chunk: DecodedChunk<T>) {
        let n = chunk.count
        let out = chunk.out, base = chunk.base
        var first = true
        for (i, x) in chunk.deltas.enumerated() {
            let c = T(coefficients[i])
            if c == 0 || !present[i] { continue }
            switch (isTaskVector[i], first) {
            case (true, true): for j in 0..<n { out[j] = c * x[j] }
            case (true, false): for j in 0..<n { out[j] = out[j] + c * x[j] }
            case (false, true): for j in 0..<n { out[j] = c * (x[j] - base[j]) }
            case (false, false): for j in 0..<n { out[j] = out[j] + c * (x[j] - base[j]) }
            }
            first = false
        }
        let s = T(baseScale)
        if first {
            // No contributing model: the base term alone.
            if s == 1 { out.update(from: base, count: n) } else if s == 0 { out.update(repeating: 0, count: n) } else { for j in 0..<n { out[j] = s * base[j] } }
        } else if s == 1 {
            for j in 0..<n { out[j] = base[j] + out[j] }
        } else if s != 0 {
            for j in 0..<n { out[j] = s * base[j] + out[j] }
        }
    }
}

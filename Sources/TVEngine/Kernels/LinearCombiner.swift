/// The fused fast path: out = baseScale · theta + Σ_i c_i tau_i over decoded chunks.
/// With baseScale 1 this is theta + Σ c_i (theta_i - theta): the task-vector form, which keeps
/// full precision in the small differences instead of cancelling large weights.
/// It receives raw model values and fuses tau_i = theta_i - theta into the accumulation.
struct LinearCombiner: ChunkCombiner {
    let baseScale: Double
    let coefficients: [Double]
    /// Per model: a task vector (added as is) rather than a checkpoint (base subtracted).
    let isTaskVector: [Bool]

    var wantsRawModels: Bool { true }

    func combine(_ chunk: DecodedChunk<Float>) { run(chunk) }
    func combine(_ chunk: DecodedChunk<Double>) { run(chunk) }

    @inline(__always)
    private func run<T: ComputeScalar>(_ chunk: DecodedChunk<T>) {
        let n = chunk.count
        let out = chunk.out, base = chunk.base
        out.update(from: base, count: n)
        ElementwiseKernels.scale(out, by: T(baseScale), count: n)
        for (i, x) in chunk.deltas.enumerated() {
            let c = T(coefficients[i])
            if c == 0 { continue }
            if isTaskVector[i] {
                ElementwiseKernels.axpy(out, c, x, count: n)
            } else {
                for j in 0..<n { out[j] += c * (x[j] - base[j]) }
            }
        }
    }
}

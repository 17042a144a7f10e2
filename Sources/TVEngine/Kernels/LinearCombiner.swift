/// The fused fast path: out = baseScale · theta + Σ_i c_i tau_i over decoded chunks.
/// With baseScale 1 this is theta + Σ c_i (theta_i - theta): the task-vector form, which keeps
/// full precision in the small differences instead of cancelling large weights.
struct LinearCombiner: ChunkCombiner {
    let baseScale: Double
    let coefficients: [Double]

    func combine(_ chunk: DecodedChunk<Float>) { run(chunk) }
    func combine(_ chunk: DecodedChunk<Double>) { run(chunk) }

    @inline(__always)
    private func run<T: ComputeScalar>(_ chunk: DecodedChunk<T>) {
        let n = chunk.count
        chunk.out.update(from: chunk.base, count: n)
        ElementwiseKernels.scale(chunk.out, by: T(baseScale), count: n)
        for (i, d) in chunk.deltas.enumerated() {
            ElementwiseKernels.axpy(chunk.out, T(coefficients[i]), d, count: n)
        }
    }
}

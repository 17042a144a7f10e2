import CKernels
import TVStorage

/// The one implementation of theta' = s · theta + Σ_i c_i tau_i (task arithmetic = DeMe's merge,
/// soups, weighted sums, lerp), for every caller: `tvtool merge`'s streaming file path, the DeMe
/// weight search's in-memory candidates and the sweeps' candidate models.
///
/// In F32 the result is DeMe's torch computation, `pretrained + sum(w_i * (theta_i - pretrained))`:
/// each tau_i in F32, scaled, summed in model order, the base added last, rounded once to the
/// output dtype. It runs on the fused C kernel where the CPU has AVX2 + F16C and on the portable
/// chunked loop (`LinearCombiner`) otherwise; the two are bit-identical. A model that lacks the
/// tensor (nil) has a zero task vector and contributes nothing.
public struct LinearCombination: Sendable {
    public var baseScale: Double
    public var coefficients: [Double]
    /// false runs the portable loop even where the fused kernel could (benchmarks, cross-checks).
    public var fusedKernels = true

    /// `coefficients[i]` weighs model i's task vector; `baseScale` the base (1 for task arithmetic).
    public init(baseScale: Double = 1, coefficients: [Double]) {
        self.baseScale = baseScale
        self.coefficients = coefficients
    }

    /// Computes the tensor of `operands` as `outputDType` into `out` (room for
    /// `outputDType.byteCount(elements: operands.elementCount)` bytes), on `runner`'s workers.
    public func compute(_ operands: TensorOperands, outputDType: DType, precision: ComputePrecision = .f32,
                        runner: ChunkRunner, into out: UnsafeMutableRawPointer) {
        precondition(coefficients.count == operands.models.count, "one coefficient per model")
        if let fused = fused(operands, outputDType: outputDType, precision: precision) {
            fused.run(operands, runner: runner, into: out)
            return
        }
        let combiner = chunked(operands)
        switch precision {
        case .f32: runner.forEachChunk(operands, as: Float.self, output: out, outputDType: outputDType, rawModels: true) { combiner.combine($1) }
        case .f64: runner.forEachChunk(operands, as: Double.self, output: out, outputDType: outputDType, rawModels: true) { combiner.combine($1) }
        }
    }

    /// The tensor of `operands` as a new `outputDType` tensor in its own memory.
    public func tensor(_ operands: TensorOperands, outputDType: DType, precision: ComputePrecision = .f32,
                       runner: ChunkRunner) throws -> Tensor {
        let bytes = outputDType.byteCount(elements: operands.elementCount) ?? 0
        let storage = ByteStorage.allocate(count: bytes) { buffer in
            if let p = buffer.baseAddress { compute(operands, outputDType: outputDType, precision: precision, runner: runner, into: p) }
        }
        return try Tensor(dtype: outputDType, shape: operands.base.shape, storage: storage)
    }

    /// Flat F32 buffers, on the calling thread: `out = s · base + Σ_i c_i tau_i` with
    /// tau_i = models[i] - base, or models[i] itself when `modelsAreTaskVectors`. Every buffer has
    /// `base.count` values; `out` may not alias an input.
    public func compute(base: UnsafeBufferPointer<Float>, models: [UnsafeBufferPointer<Float>],
                        modelsAreTaskVectors: Bool = false, into out: UnsafeMutableBufferPointer<Float>) {
        let n = base.count
        precondition(coefficients.count == models.count && out.count == n && models.allSatisfy { $0.count == n },
                     "one coefficient per model, every buffer of the base's length")
        guard n > 0 else { return }
        let flags = models.map { _ in modelsAreTaskVectors }
        if fusedKernels && FusedLinear.available {
            let pointers: [UnsafeRawPointer?] = models.map { UnsafeRawPointer($0.baseAddress) }
            let codes = models.map { _ in Int32(TV_F32) }
            let c = coefficients.map { Float($0) }
            let tv: [UInt8] = flags.map { $0 ? 1 : 0 }
            pointers.withUnsafeBufferPointer { p in
                tv_linear_combine(base.baseAddress!, Int32(TV_F32), Float(baseScale), p.baseAddress, codes, c, tv,
                                  Int32(models.count), out.baseAddress!, Int32(TV_F32), n)
            }
            return
        }
        // The portable body reads base and models only; the mutable views are what its chunk type holds.
        let chunk = DecodedChunk(offset: 0, count: n, base: UnsafeMutablePointer(mutating: base.baseAddress!),
                                 deltas: models.map { UnsafeMutablePointer(mutating: $0.baseAddress!) }, out: out.baseAddress!)
        LinearCombiner(baseScale: baseScale, coefficients: coefficients, isTaskVector: flags).combine(chunk)
    }

    /// The fused kernel for these operands in F32, when it handles their dtypes and the CPU has it.
    func fused(_ operands: TensorOperands, outputDType: DType, precision: ComputePrecision) -> FusedLinear? {
        guard precision == .f32, fusedKernels else { return nil }
        return FusedLinear(baseScale: baseScale, coefficients: coefficients, operands: operands, outputDType: outputDType)
    }

    /// The portable per-chunk body for these operands.
    func chunked(_ operands: TensorOperands) -> LinearCombiner {
        LinearCombiner(baseScale: baseScale, coefficients: coefficients, isTaskVector: operands.modelIsTaskVector,
                       present: operands.models.map { $0 != nil })
    }
}

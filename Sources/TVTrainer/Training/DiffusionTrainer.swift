/// One model being trained: optimiser, EMA, timestep sampler, optional frozen teacher, and the
/// seeded generator all draws come from (batches, timesteps, noise — in that order each step), so
/// a run is reproducible for a given seed and thread count.
public final class DiffusionTrainer {
    public struct StepStats: Sendable {
        public var step: Int
        public var loss: DiffusionLoss.Value
        public var gradientNorm: Float
        public var learningRate: Float
    }

    public let model: any TrainableDenoiser
    public let schedule: NoiseSchedule
    public let optimizer: AdamW
    public let ema: ExponentialMovingAverage?
    public var settings: TrainingSettings
    public var timestepSampler: any TimestepSampler
    /// Frozen model for the consistency term (evaluated without gradients on the same x_t, t).
    public var teacher: (any Denoiser)?
    public var rng: TrainerRandom

    private var timesteps: [Int]
    private let noise: FloatBuffer

    public init(model: any TrainableDenoiser, settings: TrainingSettings,
                timestepSampler: any TimestepSampler = UniformTimestepSampler(), teacher: (any Denoiser)? = nil) {
        self.model = model
        self.settings = settings
        self.schedule = model.config.makeSchedule()
        self.optimizer = AdamW(parameterCount: model.parameterCount, settings: settings.optimizer)
        self.ema = settings.ema.map { ExponentialMovingAverage(initial: model.parameters, settings: $0) }
        self.timestepSampler = timestepSampler
        self.teacher = teacher
        self.rng = TrainerRandom.derived(seed: settings.seed, stream: 0x7EA1)
        let n = settings.batchSize * model.dataDimension
        timesteps = [Int](repeating: 0, count: settings.batchSize)
        noise = FloatBuffer(count: n)
    }

    /// The weights to save: the EMA when there is one, else the raw weights.
    public var exportedParameters: FloatBuffer { ema?.shadow ?? model.parameters }

    /// One optimiser step on a batch of clean samples x0 ([batchSize, D]): draws t with the
    /// timestep sampler and eps ~ N(0, I), then `step(x0:t:eps:)`.
    @discardableResult
    public func step(x0: [Float]) -> StepStats {
        timestepSampler.sample(into: &timesteps, timesteps: schedule.timesteps, using: &rng)
        rng.fillNormal(noise.buffer)
        return step(x0: x0, t: timesteps, eps: noise.array)
    }

    /// One optimiser step with given timesteps and noise (deterministic; used by tests).
    @discardableResult
    public func step(x0: [Float], t: [Int], eps: [Float]) -> StepStats {
        let threads = BLASThreads.current
        let (loss, split) = computeGradients(x0: x0, t: t, eps: eps)
        // Clipping is applied inside the optimiser pass (one fewer sweep over the gradients), so
        // `model.gradients` keeps the unclipped gradient; the EMA update is fused into that pass
        // too (same arithmetic as `ema.update`). With several threads these passes are split, and
        // the norm's pass also adds the replica's half-batch gradient.
        let norm = gradientNorm(model.gradients, adding: split ? replica().gradients : nil, threads: threads)
        let n = optimizer.step + 1
        let lr = settings.learningRate.rate(peak: settings.optimizer.learningRate, step: n)
        optimizer.update(params: model.parameters, grads: model.gradients, lr: lr,
                         gradientScale: clipScale(norm: norm, maxNorm: settings.optimizer.gradientClip),
                         ema: ema.map { ($0.shadow, Float($0.settings.decay(step: n))) }, threads: threads)
        return StepStats(step: optimizer.step, loss: loss, gradientNorm: norm, learningRate: lr)
    }

    /// Forward, loss and backward without updating: leaves dL/dθ in `model.gradients`.
    ///
    /// With more than one BLAS thread the batch is split in two fixed halves, run through `model`
    /// and a replica sharing its parameters on two threads with OpenBLAS single-threaded (for
    /// these small GEMMs that beats OpenBLAS's own threading), and the two gradients are summed
    /// in a fixed order: reproducible for a given thread count.
    public func lossAndGradients(x0: [Float], t: [Int], eps: [Float]) -> DiffusionLoss.Value {
        let threads = BLASThreads.current
        let (value, split) = computeGradients(x0: x0, t: t, eps: eps)
        if split { _ = gradientNorm(model.gradients, adding: replica().gradients, threads: threads) }
        return value
    }

    /// `lossAndGradients`, except that with a split batch (`split` true) the replica's gradient
    /// is left in `replica().gradients`, not yet added to `model.gradients`.
    private func computeGradients(x0: [Float], t: [Int], eps: [Float]) -> (DiffusionLoss.Value, split: Bool) {
        let n = t.count * model.dataDimension
        precondition(x0.count == n && eps.count == n)
        let split = BLASThreads.current > 1 && t.count >= 2
        return BLASThreads.singleThreaded(if: split) { (gradients(x0: x0, t: t, eps: eps, split: split), split) }
    }

    /// `computeGradients`'s work, with OpenBLAS single-threaded when `split`.
    private func gradients(x0: [Float], t: [Int], eps: [Float], split: Bool) -> DiffusionLoss.Value {
        let n = t.count * model.dataDimension
        let noisyX: [Float] = x0.withUnsafeBufferPointer { xp in
            eps.withUnsafeBufferPointer { ep in
                var out = [Float](repeating: 0, count: n)
                out.withUnsafeMutableBufferPointer { schedule.noise(x0: xp, eps: ep, t: t, into: $0) }
                return out
            }
        }
        let halves = split ? BatchHalves(model: model, replica: replica(), batch: t.count) : nil
        let useTeacher = teacher != nil && settings.consistencyWeight != 0
        // The teacher sees the same row split as the student, so equal weights give equal outputs
        // bit for bit (the GEMM results depend on the row count).
        let teacherOut: [Float]? = !useTeacher ? nil : halves.map { h in
            let D = model.dataDimension
            return teacher!.predictEpsilon(x: Array(noisyX[..<(h.half * D)]), t: Array(t[..<h.half]))
                + teacher!.predictEpsilon(x: Array(noisyX[(h.half * D)...]), t: Array(t[h.half...]))
        } ?? teacher!.predictEpsilon(x: noisyX, t: t)
        var out = [Float](repeating: 0, count: n)
        var grad = [Float](repeating: 0, count: n)
        noisyX.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                if let halves {
                    halves.forward(x: xp.baseAddress!, t: t, out: op.baseAddress!)
                } else {
                    model.forward(x: xp.baseAddress!, t: t, out: op.baseAddress!)
                }
            }
        }
        let value = out.withUnsafeBufferPointer { op in
            eps.withUnsafeBufferPointer { ep in
                grad.withUnsafeMutableBufferPointer { gp in
                    if let teacherOut {
                        return teacherOut.withUnsafeBufferPointer { tp in
                            DiffusionLoss.evaluate(out: op.baseAddress!, eps: ep.baseAddress!, teacher: tp.baseAddress!,
                                                   consistencyWeight: settings.consistencyWeight, count: n, gradient: gp.baseAddress!)
                        }
                    }
                    return DiffusionLoss.evaluate(out: op.baseAddress!, eps: ep.baseAddress!, teacher: nil,
                                                  consistencyWeight: 0, count: n, gradient: gp.baseAddress!)
                }
            }
        }
        grad.withUnsafeBufferPointer { gp in
            if let halves { halves.backward(dOut: gp.baseAddress!) } else { model.backward(dOut: gp.baseAddress!) }
        }
        return value
    }

    private var replicaModel: (any TrainableDenoiser)?
    private func replica() -> any TrainableDenoiser {
        if let replicaModel { return replicaModel }
        let r = model.replicaSharingParameters()
        replicaModel = r
        return r
    }
}

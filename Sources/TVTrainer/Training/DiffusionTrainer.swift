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

    public let model: MLPDenoiser
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

    public init(model: MLPDenoiser, settings: TrainingSettings,
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
        let loss = lossAndGradients(x0: x0, t: t, eps: eps)
        // Clipping is applied inside the optimiser pass (one fewer sweep over the gradients), so
        // `model.gradients` keeps the unclipped gradient.
        let norm = gradientNorm(model.gradients)
        let n = optimizer.step + 1
        let lr = settings.learningRate.rate(peak: settings.optimizer.learningRate, step: n)
        optimizer.update(params: model.parameters, grads: model.gradients, lr: lr,
                         gradientScale: clipScale(norm: norm, maxNorm: settings.optimizer.gradientClip))
        ema?.update(from: model.parameters, step: optimizer.step)
        return StepStats(step: optimizer.step, loss: loss, gradientNorm: norm, learningRate: lr)
    }

    /// Forward, loss and backward without updating: leaves dL/dθ in `model.gradients`.
    public func lossAndGradients(x0: [Float], t: [Int], eps: [Float]) -> DiffusionLoss.Value {
        let n = t.count * model.dataDimension
        precondition(x0.count == n && eps.count == n)
        let noisyX: [Float] = x0.withUnsafeBufferPointer { xp in
            eps.withUnsafeBufferPointer { ep in
                var out = [Float](repeating: 0, count: n)
                out.withUnsafeMutableBufferPointer { schedule.noise(x0: xp, eps: ep, t: t, into: $0) }
                return out
            }
        }
        let useTeacher = teacher != nil && settings.consistencyWeight != 0
        let teacherOut = useTeacher ? teacher!.predictEpsilon(x: noisyX, t: t) : nil
        var out = [Float](repeating: 0, count: n)
        var grad = [Float](repeating: 0, count: n)
        noisyX.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in model.forward(x: xp.baseAddress!, t: t, out: op.baseAddress!) }
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
        grad.withUnsafeBufferPointer { model.backward(dOut: $0.baseAddress!) }
        return value
    }
}

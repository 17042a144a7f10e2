import TVTrainer

/// One DeMe finetune (deme.md, "Decouple"): a copy of the pretrained model (expanded with identity
/// projections when they are on) trained on one timestep range with probabilistic sampling and the
/// consistency loss against the frozen pretrained model (the teacher: no gradients, no projections).
/// Returns the EMA weights, which are what DeMe merges.
public enum RangeFinetuner {
    public struct Progress: Sendable {
        public var step: Int
        public var steps: Int
        public var loss: Double
        public var consistency: Double
    }

    public static func run(pretrained: any TrainableDenoiser, train: ImageDataset, options o: FinetuneOptions,
                           progress: ((Progress) -> Void)? = nil) throws -> any TrainableDenoiser {
        try o.validate(timesteps: pretrained.config.timesteps)
        guard train.dimension == pretrained.dataDimension, train.count >= 1 else {
            throw DeMeError.invalidArgument("\(train.source): images of \(train.dimension) values do not fit the model's \(pretrained.dataDimension)")
        }
        let student = o.projections ? pretrained.expandingWithIdentityProjections() : pretrained.copy()
        let sampler = try DeMeTimestepSampler(range: o.range, total: pretrained.config.timesteps, globalProbability: o.globalProbability)
        var settings = TrainingSettings(batchSize: o.batchSize, optimizer: o.optimizer,
                                        learningRate: LearningRateSchedule(shape: .constant, warmupSteps: 0, totalSteps: o.steps),
                                        ema: o.ema, consistencyWeight: o.consistencyWeight, seed: o.seed)
        settings.horizontalFlip = o.horizontalFlip
        // The teacher is its own instance (scratch buffers are per instance) of the frozen pretrained model.
        let teacher: (any Denoiser)? = o.consistencyWeight != 0 ? pretrained.frozenCopy() : nil
        let trainer = DiffusionTrainer(model: student, settings: settings, timestepSampler: sampler, teacher: teacher)
        var failure: DeMeError?
        trainer.train(on: train, until: o.steps) { s in
            guard s.loss.total.isFinite else {
                failure = .evaluationFailed("finetune on \(o.range) diverged at step \(s.step) (loss \(s.loss.total)); lower --lr")
                return false
            }
            progress?(Progress(step: s.step, steps: o.steps, loss: s.loss.epsilonMSE, consistency: s.loss.consistencyMSE))
            return true
        }
        if let failure { throw failure }
        return student.with(parameters: trainer.exportedParameters.array)
    }
}

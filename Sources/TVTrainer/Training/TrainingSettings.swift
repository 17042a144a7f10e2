/// Everything that shapes a training run besides the model and data.
public struct TrainingSettings: Codable, Sendable, Equatable {
    public var batchSize: Int
    public var optimizer: AdamWSettings
    public var learningRate: LearningRateSchedule
    /// EMA of the weights (nil: none; the saved model is then the raw weights).
    public var ema: ExponentialMovingAverage.Settings?
    /// w_c of the consistency term; only used when the trainer has a teacher.
    public var consistencyWeight: Float
    public var seed: UInt64
    /// Flip each drawn training image left-right with probability 1/2 (DDPM's augmentation).
    /// nil = off; not encoded then, so settings written before the option keep their bytes.
    public var horizontalFlip: Bool?

    public init(batchSize: Int = 128, optimizer: AdamWSettings = AdamWSettings(),
                learningRate: LearningRateSchedule = LearningRateSchedule(warmupSteps: 100),
                ema: ExponentialMovingAverage.Settings? = ExponentialMovingAverage.Settings(),
                consistencyWeight: Float = 0, seed: UInt64 = 0) {
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.ema = ema
        self.consistencyWeight = consistencyWeight
        self.seed = seed
    }
}

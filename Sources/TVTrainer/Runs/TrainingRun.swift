import Foundation
import TVStorage

/// A complete `tvtool train` run as a library call: load data, split, build or resume the model,
/// train with periodic checkpoints, and write the (EMA) model plus the resume state.
public struct TrainingRun {
    public struct Options {
        public var data: String = "digits"
        /// Image size check / resizing for the data (`DatasetLoader.load(_:options:)`).
        public var dataOptions = DataOptions()
        public var model = ModelConfig()
        public var settings = TrainingSettings()
        public var steps: Int = 8000
        public var output: String
        /// Write the model and resume state every this many steps (0: only at the end).
        public var checkpointEvery: Int = 1000
        public var resume = false
        public var dtype: DType = .f32
        /// Seed of the train/held-out split (the held-out images are never trained on).
        public var splitSeed: UInt64 = 0
        public var threads: Int = 1

        public init(output: String) { self.output = output }
    }

    public struct Progress {
        public var stats: DiffusionTrainer.StepStats
        public var totalSteps: Int
        /// Mean loss since the previous report.
        public var meanLoss: Double
    }

    public struct Summary: Codable {
        public var steps: Int
        public var seconds: Double
        public var stepsPerSecond: Double
        /// Process CPU time (all threads) per step: less sensitive to machine load than wall time.
        public var cpuMillisecondsPerStep: Double
        public var finalMeanLoss: Double
        public var trainImages: Int
        public var output: String
        public var trainState: String
    }

    public let options: Options
    public init(_ options: Options) { self.options = options }

    /// Runs the training; `report` is called every `reportEvery` steps and at the end.
    public func run(reportEvery: Int = 100, report: (Progress) -> Void = { _ in }) throws -> Summary {
        let o = options
        guard o.steps >= 1, o.settings.batchSize >= 1 else { throw TrainerError.badArgument("steps and batch size must be positive") }
        BLASThreads.set(o.threads)
        let data = try DatasetLoader.load(o.data, options: o.dataOptions)
        let split = try DatasetSplit.standard(data, seed: o.splitSeed)
        let config = try data.fittedConfig(o.model)
        try config.validate(source: "options")
        var settings = o.settings
        settings.learningRate.totalSteps = o.steps
        let model = try DenoiserArchitectures.model(config: config, seed: settings.seed)
        let trainer = DiffusionTrainer(model: model, settings: settings)
        let statePath = TrainingState.path(forModel: o.output)
        if o.resume {
            try TrainingState.restore(trainer, from: statePath)
        }
        let metadata: [String: String] = [
            "tvtool.data": data.source, "tvtool.split_seed": String(o.splitSeed),
            "tvtool.training_settings": try TrainingRun.sortedJSON(settings),
        ]
        func save() throws {
            var md = metadata
            md["tvtool.step"] = String(trainer.optimizer.step)
            try ModelCheckpoint.save(config: config, parameters: trainer.exportedParameters, to: o.output, dtype: o.dtype,
                                     metadata: md, inputs: [o.data])
            try TrainingState.save(trainer, to: statePath)
        }
        let start = Date()
        let startCPU = TrainingRun.processCPUSeconds()
        let startStep = trainer.optimizer.step
        var lossSum = 0.0, lossCount = 0, lastMean = Double.nan
        try trainer.train(on: split.train, until: o.steps) { stats in
            lossSum += stats.loss.total; lossCount += 1
            if stats.step % reportEvery == 0 || stats.step == o.steps {
                lastMean = lossSum / Double(lossCount)
                report(Progress(stats: stats, totalSteps: o.steps, meanLoss: lastMean))
                lossSum = 0; lossCount = 0
            }
            if o.checkpointEvery > 0 && stats.step % o.checkpointEvery == 0 && stats.step < o.steps { try save() }
            return true
        }
        let seconds = Date().timeIntervalSince(start)
        let cpu = TrainingRun.processCPUSeconds() - startCPU
        try save()
        let done = trainer.optimizer.step - startStep
        return Summary(steps: trainer.optimizer.step, seconds: seconds, stepsPerSecond: Double(done) / max(seconds, 1e-9),
                       cpuMillisecondsPerStep: 1000 * cpu / Double(max(done, 1)),
                       finalMeanLoss: lastMean, trainImages: split.train.count, output: o.output, trainState: statePath)
    }

    /// JSON with sorted keys, so the same run writes byte-identical metadata.
    static func sortedJSON<T: Encodable>(_ value: T) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try enc.encode(value), as: UTF8.self)
    }

    static func processCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

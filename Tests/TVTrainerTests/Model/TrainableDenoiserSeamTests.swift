import XCTest
import TVStorage
@testable import TVTrainer

/// The architecture seam: configs pick their type, and the MLP's files are what they were before
/// the seam existed.
final class TrainableDenoiserSeamTests: XCTestCase {
    /// fixtures/trainer/seam/mlp_init_golden.safetensors was written by tvtool BEFORE the seam
    /// (`train --data digits --steps 1 --lr 0 --warmup 0 --no-ema --width 8 --blocks 1
    /// --time-embedding 4 --projections --batch 2`): with lr 0 the saved weights are the seeded
    /// initialisation, so the file is the same on every CPU. The run through the seam must write
    /// the same bytes (metadata, names, order, values).
    func testMLPCheckpointIsByteIdenticalToThePreSeamFile() throws {
        let dir = TestPaths.scratchDirectory()
        var o = TrainingRun.Options(output: dir.appendingPathComponent("init.safetensors").path)
        o.steps = 1; o.checkpointEvery = 0
        o.model = ModelConfig(hiddenWidth: 8, blocks: 1, timeEmbedding: 4, projections: true)
        o.settings = TrainingSettings(batchSize: 2, optimizer: AdamWSettings(learningRate: 0, beta1: 0.9, beta2: 0.999,
                                                                             weightDecay: 0, epsilon: 1e-8, gradientClip: 1),
                                      learningRate: LearningRateSchedule(shape: .constant, warmupSteps: 0, totalSteps: 1),
                                      ema: nil, seed: 0)
        _ = try TrainingRun(o).run()
        let written = try Data(contentsOf: URL(fileURLWithPath: o.output))
        let golden = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("trainer/seam/mlp_init_golden.safetensors")))
        XCTAssertEqual(written, golden)
    }

    func testLoadingPicksTheTypeFromTheRecordedArchitecture() throws {
        let path = TestPaths.fixture("trainer/seam/mlp_init_golden.safetensors")
        let m = try ModelCheckpoint.load(path)
        XCTAssertTrue(m is MLPDenoiser)
        XCTAssertEqual(m.config.architecture, "mlp")
        let direct = MLPDenoiser(config: m.config, seed: 0)
        XCTAssertEqual(m.parameters.array, direct.parameters.array)
        XCTAssertTrue(try DenoiserArchitectures.model(config: m.config, seed: 0) is MLPDenoiser)
    }

    func testUnknownArchitectureIsABadConfigNamingTheFile() throws {
        var c = TestModels.tiny()
        c.architecture = "convnext"
        XCTAssertThrowsError(try c.validate(source: "x.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("x.safetensors") && "\(e)".contains("convnext"), "\(e)")
        }
    }

    /// Through the protocol (existential) the trainer does exactly what it does on the concrete
    /// type: same steps, same weights, with the two-thread batch split on the replica.
    func testTrainingThroughTheProtocolMatchesTheConcreteModel() throws {
        let c = TestModels.tiny(projections: true)
        let data = ImageDataset(channels: 1, height: 3, width: 3, values: TestModels.batch(c, size: 16, seed: 2).x0, source: "t")
        let settings = TrainingSettings(batchSize: 4, seed: 3)
        let previous = BLASThreads.current
        defer { BLASThreads.set(previous) }
        for threads in [1, 2] {
            BLASThreads.set(threads)
            let concrete = MLPDenoiser(config: c, seed: 5)
            let viaFactory = try DenoiserArchitectures.model(config: c, seed: 5)
            let a = DiffusionTrainer(model: concrete, settings: settings), b = DiffusionTrainer(model: viaFactory, settings: settings)
            a.train(on: data, until: 6); b.train(on: data, until: 6)
            XCTAssertEqual(a.exportedParameters.array, b.exportedParameters.array)
            let replica = viaFactory.replicaSharingParameters()
            XCTAssertTrue(replica.parameters === viaFactory.parameters)
            XCTAssertFalse(replica.gradients === viaFactory.gradients)
        }
    }
}

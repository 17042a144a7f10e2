import XCTest
import TVStorage
@testable import TVTrainer

/// The UNet behind the trainer's TrainableDenoiser seam: built from a checkpoint's recorded
/// architecture, trained by DiffusionTrainer (one thread, and two threads on batch halves with a
/// replica), saved and loaded as a tvtool checkpoint, expanded with identity projections.
final class UNetSeamTests: XCTestCase {
    static var tiny: ModelConfig {
        var u = UNetGradientCheckTests.tinyConfig()
        u.channelProjections = false; u.centerInputSample = false
        return UNet2DModel.modelConfig(u)
    }

    func testFactoryBuildsTheUNetAndCheckpointsRoundTrip() throws {
        let c = Self.tiny
        try c.validate(source: "test")
        let model = try DenoiserArchitectures.model(config: c, seed: 3)
        XCTAssertTrue(model is UNet2DModel)
        let dir = TestPaths.scratchDirectory("unet-seam")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.safetensors").path
        try ModelCheckpoint.save(model, to: path)
        let back = try ModelCheckpoint.load(path)
        XCTAssertTrue(back is UNet2DModel)
        XCTAssertEqual(back.config, c)
        XCTAssertEqual(back.parameters.array, model.parameters.array)
    }

    func testExpandingWithIdentityProjectionsKeepsOutputs() {
        let model = UNet2DModel(config: Self.tiny, seed: 6)
        let expanded = model.expandingWithIdentityProjections()
        XCTAssertTrue(expanded.config.projections)
        XCTAssertEqual(expanded.parameterCount - model.parameterCount, 8 * 8 + 16 * 16 + 16 * 16 + 16 * 16 + 8 * 8)
        var rng = TrainerRandom(seed: 2)
        let x = rng.normals(2 * model.dataDimension)
        XCTAssertEqual(expanded.predictEpsilon(x: x, t: [4, 600]), model.predictEpsilon(x: x, t: [4, 600]))
    }

    func testTrainerStepsMatchAtOneAndTwoThreads() throws {
        let c = Self.tiny
        var rng = TrainerRandom(seed: 9)
        let data = ImageDataset(channels: 3, height: 8, width: 8, values: rng.normals(16 * c.dataDimension), source: "t")
        let settings = TrainingSettings(batchSize: 4, seed: 3)
        let previous = BLASThreads.current
        defer { BLASThreads.set(previous) }
        var results: [[Float]] = []
        for threads in [1, 2] {
            BLASThreads.set(threads)
            let trainer = DiffusionTrainer(model: UNet2DModel(config: c, seed: 5), settings: settings)
            trainer.train(on: data, until: 3)
            results.append(trainer.exportedParameters.array)
        }
        let start = UNet2DModel(config: c, seed: 5).parameters.array
        XCTAssertNotEqual(results[0], start, "training moved the weights")
        XCTAssertLessThan(UNetTestSupport.relativeMaxError(results[1], results[0]), 1e-4)
    }
}

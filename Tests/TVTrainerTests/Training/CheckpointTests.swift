import XCTest
import TVStorage
@testable import TVTrainer

final class CheckpointTests: XCTestCase {
    func testSaveLoadRoundTripWithConfigAndNames() throws {
        let dir = TestPaths.scratchDirectory()
        let path = dir.appendingPathComponent("m.safetensors").path
        let m = MLPDenoiser(config: TestModels.tiny(), seed: 4)
        try ModelCheckpoint.save(m, to: path)
        let reader = try Checkpoints.open(path)
        XCTAssertEqual(reader.info(named: "input.weight")?.shape, [6, 9])   // [out, in]
        XCTAssertEqual(reader.metadata["format"], "pt")
        let back = try ModelCheckpoint.load(path)
        XCTAssertEqual(back.config, m.config)
        XCTAssertEqual(back.parameters.array, m.parameters.array)
        let expanded = try ModelCheckpoint.load(path, identityProjections: true)
        XCTAssertTrue(expanded.config.projections)
        let (x0, t, _) = TestModels.batch(m.config, size: 3, seed: 1)
        XCTAssertEqual(expanded.predictEpsilon(x: x0, t: t), m.predictEpsilon(x: x0, t: t))
    }

    func testLoadRejectsForeignCheckpoint() throws {
        let dir = TestPaths.scratchDirectory()
        let path = dir.appendingPathComponent("x.safetensors").path
        let t = try Tensor.fromFloats([1, 2], shape: [2])
        let w = try Checkpoints.create(path, tensors: [t.info(name: "a")], metadata: [:])
        try w.write(t, named: "a"); try w.finish()
        XCTAssertThrowsError(try ModelCheckpoint.load(path)) { XCTAssertTrue("\($0)".contains("x.safetensors")) }
    }

    /// Training N steps equals training N/2, saving the resume state, restoring and training on.
    func testResumeContinuesExactly() throws {
        let dir = TestPaths.scratchDirectory()
        let c = TestModels.tiny()
        let data = ImageDataset(channels: 1, height: 3, width: 3, values: TestModels.batch(c, size: 20, seed: 5).x0, source: "t")
        let settings = TrainingSettings(batchSize: 4, seed: 9)
        let a = DiffusionTrainer(model: MLPDenoiser(config: c, seed: 1), settings: settings)
        a.train(on: data, until: 10)
        let b = DiffusionTrainer(model: MLPDenoiser(config: c, seed: 1), settings: settings)
        b.train(on: data, until: 5)
        let state = dir.appendingPathComponent("s.safetensors").path
        try TrainingState.save(b, to: state)
        let b2 = DiffusionTrainer(model: MLPDenoiser(config: c, seed: 1), settings: settings)
        try TrainingState.restore(b2, from: state)
        b2.train(on: data, until: 10)
        XCTAssertEqual(b2.model.parameters.array, a.model.parameters.array)
        XCTAssertEqual(b2.exportedParameters.array, a.exportedParameters.array)
    }
}

import Foundation
import TestSupport
import TVStorage
import XCTest
@testable import TVTrainer

/// `TrainingRun` on a UNet (what `tvtool train --model unet` runs): diffusers folders out, the
/// config fitted to the data, folders back in with their schedule.
final class UNetTrainingRunTests: XCTestCase {
    /// A tiny UNet's settings with sample size and channels taken from the data.
    static var tinySettings: UNetConfig {
        UNetConfig(sampleSize: 0, inChannels: 0, outChannels: 0, blockOutChannels: [4, 8], downBlockTypes: [.down, .attnDown],
                   upBlockTypes: [.attnUp, .up], layersPerBlock: 1, attentionHeadDim: 4, normNumGroups: 2)
    }

    /// 12 images 1×8×8 in [-1, 1] as a .npy file.
    static func writeData(_ dir: URL, count: Int = 12) throws -> String {
        let path = dir.appendingPathComponent("data.npy").path
        let values = (0..<(count * 64)).map { Float(sin(Double($0) * 0.37)) }
        try NumpyArray.writeFloat32(values, shape: [count, 1, 8, 8], to: path)
        return path
    }

    func trainOptions(_ dir: URL, output: String, steps: Int = 3) throws -> TrainingRun.Options {
        var o = TrainingRun.Options(output: output)
        o.data = try Self.writeData(dir)
        o.steps = steps
        o.model = ModelConfig(architecture: UNet2DModel.architecture)
        o.model.unet = Self.tinySettings
        o.settings = TrainingSettings(batchSize: 4)
        return o
    }

    /// Regression: architecture "unet" without UNet settings reached a preconditionFailure; it is
    /// a usage error now.
    func testUNetWithoutSettingsIsAnErrorNotACrash() throws {
        let dir = TestPaths.scratchDirectory("unet-run")
        defer { try? FileManager.default.removeItem(at: dir) }
        var o = try trainOptions(dir, output: dir.appendingPathComponent("u").path)
        o.model.unet = nil
        XCTAssertThrowsError(try TrainingRun(o).run()) { e in
            guard case .badArgument? = e as? TrainerError else { return XCTFail("\(e)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: o.output))
    }

    func testDataShapeMustMatchAConfigsSampleSizeAndChannels() throws {
        let data = ImageDataset(channels: 1, height: 8, width: 8, values: [Float](repeating: 0, count: 4 * 64), source: "d")
        var base = ModelConfig(architecture: UNet2DModel.architecture)
        base.unet = Self.tinySettings
        let fitted = try data.fittedConfig(base)
        XCTAssertEqual([fitted.unet?.sampleSize, fitted.unet?.inChannels, fitted.unet?.outChannels, fitted.unet?.numTrainTimesteps], [8, 1, 1, 1000])
        base.unet!.sampleSize = 16
        XCTAssertThrowsError(try data.fittedConfig(base)) { e in
            guard case .badData? = e as? TrainerError else { return XCTFail("\(e)") }
        }
        base.unet!.sampleSize = 8; base.unet!.inChannels = 3
        XCTAssertThrowsError(try data.fittedConfig(base))
    }

    /// A folder keeps tvtool's config (schedule, projections) in the weights' metadata; a folder
    /// without it (plain diffusers) loads with the linear schedule over num_train_timesteps.
    func testFolderRoundTripKeepsScheduleAndProjections() throws {
        let dir = TestPaths.scratchDirectory("unet-folder")
        defer { try? FileManager.default.removeItem(at: dir) }
        var u = Self.tinySettings
        u.sampleSize = 8; u.inChannels = 1; u.outChannels = 1; u.numTrainTimesteps = 500
        var config = UNet2DModel.modelConfig(u, schedule: .cosine)
        config.projections = true
        let model = UNet2DModel(config: config, seed: 4)
        let folder = dir.appendingPathComponent("m").path
        try ModelCheckpoint.save(model, to: folder)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/config.json"))
        let back = try ModelCheckpoint.load(folder)
        XCTAssertEqual(back.config, config)
        XCTAssertEqual(back.parameters.array, model.parameters.array)
        XCTAssertEqual(try ModelFolder.config(try Checkpoints.open(folder)), config)

        let plain = dir.appendingPathComponent("plain").path
        try UNetFolder.save(model, to: plain)
        let loaded = try ModelCheckpoint.load(plain)
        XCTAssertEqual(loaded.config.schedule, .linear)
        XCTAssertEqual(loaded.config.timesteps, 500)
        XCTAssertTrue(loaded.config.projections)
        XCTAssertEqual(try ModelFolder.config(try Checkpoints.open(plain)), loaded.config)
        // A single-file output stays one file.
        let file = dir.appendingPathComponent("m.safetensors").path
        try ModelCheckpoint.save(model, to: file)
        XCTAssertEqual(try ModelCheckpoint.load(file).config, config)
    }

    /// Evaluation batches bound the activation memory: the DDPM CIFAR-10 UNet gets a small batch.
    func testEvaluationBatchSize() {
        XCTAssertLessThanOrEqual(UNet2DModel.evaluationBatchSize(for: UNetConfig.ddpmCIFAR10), 32)
        var u = Self.tinySettings
        u.sampleSize = 8; u.inChannels = 1; u.outChannels = 1
        XCTAssertEqual(UNet2DModel(config: u, seed: 0).evaluationBatchSize, 512)
    }

    /// Two data-parallel halves give the model's own outputs (up to GEMM row-count rounding).
    func testDataParallelDenoiserMatchesTheModel() {
        var u = Self.tinySettings
        u.sampleSize = 8; u.inChannels = 1; u.outChannels = 1
        let model = UNet2DModel(config: u, seed: 2)
        var rng = TrainerRandom(seed: 1)
        let x = rng.normals(5 * 64), t = [0, 10, 300, 600, 999]
        let a = model.predictEpsilon(x: x, t: t), b = DataParallelDenoiser(model).predictEpsilon(x: x, t: t)
        let scale = a.map(abs).max()!
        XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()! / scale, 1e-5)
    }

    /// What `tvtool train --model unet -o FOLDER` writes loads in diffusers and computes the same output.
    func testTrainedFolderLoadsInDiffusers() throws {
        guard let python = TestPaths.python(with: ["torch", "diffusers", "safetensors"]) else {
            throw XCTSkip("torch + diffusers not installed")
        }
        let dir = TestPaths.scratchDirectory("unet-trained")
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("u").path
        _ = try TrainingRun(try trainOptions(dir, output: folder)).run()
        let model = try ModelCheckpoint.load(folder)
        var rng = TrainerRandom(seed: 3)
        let x = rng.normals(2 * 64)
        let out = model.predictEpsilon(x: x, t: [7, 800])
        try Checkpoints.save([("x", try Tensor.fromFloats(x, shape: [2, 1, 8, 8])), ("out", try Tensor.fromFloats(out, shape: [2, 1, 8, 8]))],
                             to: dir.appendingPathComponent("io.safetensors").path, metadata: [:])
        let script = """
        import sys, torch
        from diffusers import UNet2DModel
        from safetensors.torch import load_file
        m = UNet2DModel.from_pretrained(sys.argv[1]).eval()
        io = load_file(sys.argv[2])
        with torch.no_grad():
            out = m(io["x"], torch.tensor([7, 800])).sample
        print(float((out - io["out"]).abs().max() / io["out"].abs().max()))
        """
        let run = try TestPaths.runPython(python, script: script, arguments: [folder, dir.appendingPathComponent("io.safetensors").path])
        XCTAssertEqual(run.status, 0, run.combinedText)
        let err = Double(run.stdoutText.split(separator: "\n").last.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "") ?? .infinity
        XCTAssertLessThan(err, 1e-4, run.combinedText)
    }
}

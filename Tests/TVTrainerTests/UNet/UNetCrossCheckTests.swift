import XCTest
import TVStorage
@testable import TVTrainer

/// tvtool's UNet2DModel against diffusers' (fixtures/unet/make.py): output, MSE loss and the
/// gradient of every parameter on the committed small config, whose reference was computed in
/// float64 by PyTorch. Errors are max |tvtool − torch| over max |torch| per tensor.
final class UNetCrossCheckTests: XCTestCase {
    static let outputTolerance = 1e-5
    static let gradientTolerance = 1e-3

    func testSmallConfigMatchesPyTorch() throws {
        let dir = TestPaths.fixture("unet/small")
        let config = try UNetConfig.load(dir + "/config.json")
        let model = UNet2DModel(config: config, parameters: UNetTestSupport.hashedWeights(UNet2DModel.layout(for: config)))
        XCTAssertEqual(model.parameterCount, 702_499)
        let ref = try UNetTestSupport.tensors(dir + "/crosscheck.safetensors")
        let x = try ref["x"]!.floats(), t = try UNetTestSupport.ints(ref["t"]!), target = try ref["target"]!.floats()
        let out = model.predictEpsilon(x: x, t: t)
        let outErr = UNetTestSupport.relativeMaxError(out, try ref["out"]!.floats())
        XCTAssertLessThan(outErr, Self.outputTolerance, "output")
        let (loss, dOut) = UNetTestSupport.mse(out, target)
        XCTAssertEqual(loss, Double(try ref["loss"]!.floats()[0]), accuracy: 1e-5 * loss)
        dOut.withUnsafeBufferPointer { model.backward(dOut: $0.baseAddress!) }
        var worst = (0.0, "")
        for e in model.layout.entries {
            guard let g = ref["grad." + e.name] else { XCTFail("no reference gradient for \(e.name)"); continue }
            XCTAssertEqual(g.shape, e.shape, e.name)
            let mine = Array(UnsafeBufferPointer(start: model.gradients.pointer + e.offset, count: e.count))
            let err = UNetTestSupport.relativeMaxError(mine, try g.floats())
            if err > worst.0 { worst = (err, e.name) }
            XCTAssertLessThan(err, Self.gradientTolerance, "gradient of \(e.name)")
        }
        XCTAssertEqual(ref.keys.filter { $0.hasPrefix("grad.") }.count, model.layout.entries.count, "every parameter checked")
        print("UNet small config vs PyTorch: output rel. error \(outErr), worst gradient \(worst.0) (\(worst.1))")
    }

    /// google/ddpm-cifar10-32's shape with random weights, written by diffusers' save_pretrained at
    /// test time (143 MB, not committed): tvtool loads the folder and its outputs match.
    func testCIFAR10ShapedModelFromDiffusersMatches() throws {
        guard let python = TestPaths.python(with: ["torch", "diffusers", "safetensors", "numpy"]) else {
            throw XCTSkip("torch + diffusers not installed: the CIFAR-10-shaped cross-check needs them to write its folder")
        }
        let dir = TestPaths.scratchDirectory("unet-cifar")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try TestPaths.runPython(python, script: "import runpy, sys; sys.argv = ['make.py'] + sys.argv[1:]; runpy.run_path('\(TestPaths.fixture("unet/make.py"))', run_name='__main__')",
                                          arguments: ["cifar", dir.path])
        XCTAssertEqual(run.status, 0, run.combinedText)
        let model = try UNetFolder.load(dir.path)
        XCTAssertEqual(model.unetConfig, UNetConfig.ddpmCIFAR10)
        XCTAssertEqual(model.parameterCount, 35_746_307)
        let ref = try UNetTestSupport.tensors(dir.appendingPathComponent("crosscheck.safetensors").path)
        let out = model.predictEpsilon(x: try ref["x"]!.floats(), t: try UNetTestSupport.ints(ref["t"]!))
        let err = UNetTestSupport.relativeMaxError(out, try ref["out"]!.floats())
        XCTAssertLessThan(err, Self.outputTolerance, "output")
        print("UNet CIFAR-10-shaped vs diffusers: output rel. error \(err)")
    }

    /// The other direction: diffusers' from_pretrained loads the folder tvtool writes (with the
    /// small config) and computes the same output.
    func testDiffusersLoadsWhatTvtoolWrites() throws {
        guard let python = TestPaths.python(with: ["torch", "diffusers", "safetensors"]) else {
            throw XCTSkip("torch + diffusers not installed")
        }
        let config = try UNetConfig.load(TestPaths.fixture("unet/small/config.json"))
        let model = UNet2DModel(config: config, seed: 5)
        let dir = TestPaths.scratchDirectory("unet-write")
        defer { try? FileManager.default.removeItem(at: dir) }
        try UNetFolder.save(model, to: dir.path)
        var rng = TrainerRandom(seed: 3)
        let x = rng.normals(2 * config.dataDimension), t = [3, 950]
        let out = model.predictEpsilon(x: x, t: t)
        try Checkpoints.save([("x", try Tensor.fromFloats(x, shape: [2, 3, 16, 16])), ("out", try Tensor.fromFloats(out, shape: [2, 3, 16, 16]))],
                             to: dir.appendingPathComponent("io.safetensors").path, metadata: [:])
        let script = """
        import sys, torch
        from diffusers import UNet2DModel
        from safetensors.torch import load_file
        m = UNet2DModel.from_pretrained(sys.argv[1]).eval()
        io = load_file(sys.argv[1] + "/io.safetensors")
        with torch.no_grad():
            out = m(io["x"], torch.tensor([3, 950])).sample
        print(float((out - io["out"]).abs().max() / io["out"].abs().max()))
        """
        let run = try TestPaths.runPython(python, script: script, arguments: [dir.path])
        XCTAssertEqual(run.status, 0, run.combinedText)
        let err = Double(run.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .infinity
        XCTAssertLessThan(err, Self.outputTolerance, run.combinedText)
    }
}

import Foundation
import TestSupport
import TVStorage
import XCTest

/// train / eval / sample / finetune / deme / landscape on tiny UNets, end to end through the binary.
final class UNetCommandsTests: XCTestCase {
    static let tiny = ["--model", "unet", "--block-out-channels", "4,8", "--layers-per-block", "1", "--attention-head-dim", "4"]

    /// 40 images 1×8×8 (the first bundled digits, in [-1, 1]) as a checkpoint tensor: small enough
    /// that held-out sets (2 + 2 images) evaluate in milliseconds.
    static func writeData(_ dir: URL) throws -> String {
        let npy = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("trainer/digits.npy")))
        let headerLength = Int(npy[8]) | Int(npy[9]) << 8
        let pixels = npy.dropFirst(10 + headerLength).prefix(40 * 64).map { Float($0) / 16 * 2 - 1 }
        let path = dir.appendingPathComponent("d40.safetensors").path
        try Checkpoints.save([("images", try Tensor.fromFloats(Array(pixels), shape: [40, 1, 8, 8]))], to: path, metadata: [:])
        return path
    }

    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    func run(_ args: [String], in dir: URL) throws -> TVToolBinary.Result { try Self.run(args, in: dir) }

    /// Runs tvtool; arguments starting with `@` are paths inside `dir`.
    static func run(_ args: [String], in dir: URL) throws -> TVToolBinary.Result {
        try TVToolBinary.run(args.map { $0.hasPrefix("@") ? dir.path + "/" + $0.dropFirst() : $0 })
    }

    /// A tiny UNet `dir/base/` (3 steps) and its range finetunes `dir/a.safetensors` (t in [0, 500))
    /// and `dir/b.safetensors` ([500, 1000)), without projections: the inputs of a merge or sweep.
    static func baseAndTwoFinetunes(_ dir: URL, data: String) throws {
        let r = try run(["train", "--data", data, "--steps", "3", "--batch", "4", "--quiet", "-o", "@base"] + tiny, in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        for (name, range) in [("a", "0:500"), ("b", "500:1000")] {
            let f = try run(["finetune", "@base", "--data", data, "--t-range", range, "--steps", "2", "--batch", "4", "--lr", "1e-2",
                             "--no-projections", "-o", "@\(name).safetensors"], in: dir)
            XCTAssertEqual(f.status, 0, f.stderr)
        }
    }

    func testTrainResumeEvalSampleFinetuneOnAUNetFolder() throws {
        let dir = TestPaths.scratchDirectory("unet-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Self.writeData(dir)
        let common = ["train", "--data", data, "--batch", "8", "--quiet"] + Self.tiny
        var r = try run(common + ["--steps", "4", "--checkpoint-every", "2", "-o", "@u"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        for f in ["u/config.json", "u/diffusion_pytorch_model.safetensors", "u.train-state.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), f)
        }
        r = try run(common + ["--steps", "6", "--resume", "-o", "@u"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("step 6"), r.stdout)
        // Resuming reproduces the uninterrupted run bit for bit.
        r = try run(common + ["--steps", "6", "-o", "@straight/"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("u/diffusion_pytorch_model.safetensors")),
                       try Data(contentsOf: dir.appendingPathComponent("straight/diffusion_pytorch_model.safetensors")))

        r = try run(["eval", "@u", "--data", data, "--fd-samples", "4", "--sampling-steps", "2", "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let one = try XCTUnwrap(try Self.json(r.stdout)["epsilon_mse"] as? Double)
        XCTAssertNotNil(try Self.json(r.stdout)["frechet_distance"] as? Double)
        r = try run(["eval", "@u", "--data", data, "--fd-samples", "0", "--threads", "2", "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let two = try XCTUnwrap(try Self.json(r.stdout)["epsilon_mse"] as? Double)
        XCTAssertEqual(one, two, accuracy: 1e-6 * one, "two data-parallel halves evaluate the same model")

        r = try run(["sample", "@u", "-n", "4", "-o", "@g.png", "--sampling-steps", "2"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(Array(try Data(contentsOf: dir.appendingPathComponent("g.png")).prefix(4)), [137, 80, 78, 71])

        // finetune: projections on (1×1 identity convs, kept in the output folder), --write-base alongside.
        r = try run(["finetune", "@u", "--data", data, "--t-range", "0:500", "--steps", "2", "--batch", "4", "--threads", "2",
                     "-o", "@ft", "--write-base", "@base.safetensors", "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let config = try String(contentsOf: dir.appendingPathComponent("ft/config.json"), encoding: .utf8)
        XCTAssertTrue(config.contains("\"tvtool_channel_projections\" : true"), config)
        // The 1×1 projections start as the identity and are trained (AdamW moves every entry with a gradient).
        let weights = try Checkpoints.open(dir.appendingPathComponent("ft/diffusion_pytorch_model.safetensors").path)
        let projections = weights.tensors.filter { $0.name.hasSuffix("channel_projection.weight") }
        XCTAssertGreaterThan(projections.count, 0)
        for info in projections {
            let c = info.shape[0], values = try weights.tensor(named: info.name).floats()
            XCTAssertEqual(info.shape, [c, c, 1, 1], info.name)
            let identity = (0..<(c * c)).map { Float($0 / c == $0 % c ? 1 : 0) }
            XCTAssertNotEqual(values, identity, "\(info.name) was not trained")
            XCTAssertLessThan(zip(values, identity).map { abs($0 - $1) }.max()!, 0.01, info.name)
        }
        r = try run(["eval", "@ft", "--data", data, "--fd-samples", "0", "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testUNetUsageAndBadInputErrors() throws {
        let dir = TestPaths.scratchDirectory("unet-cli-errors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Self.writeData(dir)
        // Regression: --model unet alone used to reach preconditionFailure; the default UNet trains now.
        var r = try run(["train", "--model", "unet", "--data", data, "--steps", "1", "--batch", "2", "--quiet", "-o", "@default"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("default/config.json").path))
        for (args, code) in [(["--width", "8"] + Self.tiny, Int32(1)), (["--block-out-channels", "4,8"], 1),
                             (Self.tiny + ["--config", TestPaths.fixture("unet/small/config.json")], 1),
                             (["--model", "unet", "--config", TestPaths.fixture("deme_files/pretrained_unet/config.json")], 2)] {
            r = try run(["train", "--data", data, "--steps", "1", "-o", "@bad"] + args, in: dir)
            XCTAssertEqual(r.status, code, "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad").path))
        }
        // A 1-channel 8×8 UNet on 3-channel 32×32 images: bad input, one line, nothing written.
        let cifar = "cifar10:" + TestPaths.fixture("trainer/cifar10/py")
        for args in [["eval", "@default", "--data", cifar, "--fd-samples", "0"],
                     ["finetune", "@default", "--data", cifar, "--t-range", "0:500", "--steps", "1", "-o", "@ft.safetensors"],
                     ["deme", "--pretrained", "@default", "--data", cifar, "--fd-seeds", "", "-o", "@dm"]] {
            r = try run(args, in: dir)
            XCTAssertEqual(r.status, 2, "\(args[0]): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("ft.safetensors").path))
    }

    /// 3-channel 32×32 data (the CIFAR-10 fixture batches): an RGB PNG grid.
    func testCIFARShapedUNetSamplesAnRGBGrid() throws {
        let dir = TestPaths.scratchDirectory("unet-cli-cifar")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cifar = "cifar10:" + TestPaths.fixture("trainer/cifar10/bin")
        var r = try run(["train", "--data", cifar, "--steps", "2", "--batch", "2", "--quiet", "-o", "@c"] + Self.tiny, in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(try String(contentsOf: dir.appendingPathComponent("c/config.json"), encoding: .utf8).contains("\"sample_size\" : 32"))
        r = try run(["sample", "@c", "-n", "4", "-o", "@g.png", "--sampling-steps", "1", "--scale", "1"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let png = try Data(contentsOf: dir.appendingPathComponent("g.png"))
        let be32 = { (o: Int) in png[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
        XCTAssertGreaterThanOrEqual(be32(16), 64)  // 2 columns of 32 pixels
        XCTAssertEqual(png[25], 2, "colour type RGB")
    }

    /// deme --model unet pretrains OUT/pretrained (a diffusers folder), runs the pipeline, and
    /// reuses the pretrained model on rerun; deme --pretrained FOLDER starts from a folder.
    func testDeMeOnATinyUNet() throws {
        let dir = TestPaths.scratchDirectory("unet-cli-deme")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Self.writeData(dir)
        let pipeline = ["--data", data, "--ranges", "2", "--steps-per-range", "3", "--batch", "4", "--grid", "0,1", "--refine", "0",
                        "--fd-seeds", "", "--eval-timesteps", "2", "--sampling-steps", "1", "--json"]
        let start = Date()
        var r = try run(["deme", "--pretrain-steps", "6", "-o", "@dm"] + Self.tiny + pipeline, in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        print("tiny UNet deme (pretrain 6 steps, 2 ranges × 3 steps): \(Date().timeIntervalSince(start)) s")
        let report = try Self.json(r.stdout)
        XCTAssertEqual((report["rows"] as? [Any])?.count, 5)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("dm/pretrained/config.json").path))
        // A UNet's merged model and finetunes are diffusers folders.
        for f in ["dm/merged/config.json", "dm/merged/diffusion_pytorch_model.safetensors", "dm/finetunes/deme_range1_0_500/config.json",
                  "dm/finetunes/base_identity_projections/config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), f)
        }
        r = try run(["deme", "--pretrain-steps", "6", "-o", "@dm"] + Self.tiny + pipeline, in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("reusing"), r.stderr)
        r = try run(["deme", "--pretrained", "@dm/pretrained", "-o", "@dm2"] + pipeline, in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try run(["deme", "--pretrained", "@dm/pretrained", "--model", "unet", "-o", "@dm3"] + pipeline, in: dir)
        XCTAssertEqual(r.status, 1, r.stderr)
    }

    /// The built-in landscape evaluator merges a UNet point in memory; `merge` (the engine, an
    /// independent path) writes the same point as a diffusers folder and `eval` scores it: equal.
    func testInMemoryUNetLandscapePointEqualsEvalOfTheMergedFolder() throws {
        let dir = TestPaths.scratchDirectory("unet-cli-landscape")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Self.writeData(dir)
        try UNetCommandsTests.baseAndTwoFinetunes(dir, data: data)
        var r = try run(["landscape", "@base", "@a.safetensors", "@b.safetensors", "--grid", "1", "--grid", "0.5", "--data", data,
                     "--jobs", "2", "--quiet", "--json", "-o", "@land"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let best = try XCTUnwrap(try Self.json(r.stdout)["best"] as? [String: Any])
        let inMemory = try XCTUnwrap(best["value"] as? Double)
        r = try run(["merge", "@base", "@a.safetensors", "@b.safetensors", "--weights", "1,0.5", "-o", "@merged/"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try run(["eval", "@merged", "--data", data, "--fd-samples", "0", "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let evaluated = try XCTUnwrap(try Self.json(r.stdout)["epsilon_mse"] as? Double)
        XCTAssertEqual(inMemory, evaluated, accuracy: 1e-12 * evaluated)
        // search's built-in evaluator is the same in-memory path; its best.safetensors carries the
        // UNet's config, so eval loads it and scores the same point.
        r = try run(["search", "@base", "@a.safetensors", "@b.safetensors", "--grid", "1", "--grid", "0.5", "--data", data,
                     "--jobs", "2", "--quiet", "--json", "-o", "@search"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let searched = try XCTUnwrap((try Self.json(r.stdout)["best"] as? [String: Any])?["value"] as? Double)
        XCTAssertEqual(searched, inMemory, accuracy: 1e-12 * inMemory)
        r = try run(["eval", "@search/best.safetensors", "--data", data, "--fd-samples", "0", "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try XCTUnwrap(try Self.json(r.stdout)["epsilon_mse"] as? Double), evaluated, accuracy: 1e-12 * evaluated)
        // The per-range variant runs on the same plane.
        r = try run(["landscape", "@base", "@a.safetensors", "@b.safetensors", "--grid", "0,1", "--t-range", "0:250", "--data", data,
                     "--eval-repeats", "4", "--jobs", "2", "--quiet", "--json", "-o", "@land_0_250"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("land_0_250/landscape.png").path))
    }
}

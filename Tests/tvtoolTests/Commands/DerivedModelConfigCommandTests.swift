import Foundation
import TestSupport
import TVStorage
import TVTrainer
import XCTest

/// merge / interp / apply outputs carry the trainer model config their inputs agree on, so
/// `eval` loads a merged MLP file directly.
final class DerivedModelConfigCommandTests: XCTestCase {
    static let small = ["--width", "16", "--blocks", "1", "--time-embedding", "8", "--batch", "16", "--quiet"]

    func run(_ args: [String], in dir: URL) throws -> TVToolBinary.Result {
        try TVToolBinary.run(args.map { $0.hasPrefix("@") ? dir.path + "/" + $0.dropFirst() : $0 })
    }

    func epsilonMSE(_ model: String, in dir: URL) throws -> Double {
        let r = try run(["eval", model, "--data", "digits", "--fd-samples", "0", "--ranges", "2", "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return try XCTUnwrap(json["epsilon_mse"] as? Double)
    }

    /// Oracle: theta + sum_i w_i (theta_i - theta) in Double on the loaded parameter vectors,
    /// saved by the trainer's own writer, and evaluated by the same `eval`.
    func testMergedMLPFileEvaluatesLikeTheInMemoryMerge() throws {
        let dir = TestPaths.scratchDirectory("derived-config")
        defer { try? FileManager.default.removeItem(at: dir) }
        var r = try run(["train", "--data", "digits", "--steps", "30", "-o", "@base.safetensors"] + Self.small, in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        for (name, range) in [("a", "0:500"), ("b", "500:1000")] {
            r = try run(["finetune", "@base.safetensors", "--data", "digits", "--t-range", range, "--steps", "5", "--batch", "16",
                         "--lr", "1e-2", "--no-projections", "-o", "@\(name).safetensors"], in: dir)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let weights = [0.7, -0.4]
        r = try run(["merge", "@base.safetensors", "@a.safetensors", "@b.safetensors", "--weights", "0.7,-0.4", "-o", "@merged.safetensors", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        let base = try ModelCheckpoint.load(dir.appendingPathComponent("base.safetensors").path)
        let fts = try ["a", "b"].map { try ModelCheckpoint.load(dir.appendingPathComponent("\($0).safetensors").path) }
        let written = try Checkpoints.open(dir.appendingPathComponent("merged.safetensors").path)
        XCTAssertEqual(try ModelConfig.fromMetadata(written.metadata, source: "merged"), base.config)

        var oracle = [Float](repeating: 0, count: base.parameterCount)
        let b = base.parameters.array, ms = fts.map(\.parameters.array)
        for j in oracle.indices {
            var v = Double(b[j])
            for (w, m) in zip(weights, ms) { v += w * (Double(m[j]) - Double(b[j])) }
            oracle[j] = Float(v)
        }
        let oraclePath = dir.appendingPathComponent("oracle.safetensors").path
        try ModelCheckpoint.save(base.with(parameters: oracle), to: oraclePath)
        let merged = try epsilonMSE("@merged.safetensors", in: dir), expected = try epsilonMSE(oraclePath, in: dir)
        XCTAssertEqual(merged, expected, accuracy: 1e-5 * expected)
        XCTAssertNotEqual(merged, try epsilonMSE("@base.safetensors", in: dir), "the merge moved the model")

        // interp and apply carry it too.
        r = try run(["interp", "@a.safetensors", "@b.safetensors", "--t", "0.25", "-o", "@mid.safetensors", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertGreaterThan(try epsilonMSE("@mid.safetensors", in: dir), 0)
        r = try run(["diff", "@base.safetensors", "@a.safetensors", "-o", "@tau.safetensors", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertNil(try Checkpoints.open(dir.appendingPathComponent("tau.safetensors").path).metadata[ModelConfig.metadataKey],
                     "a task vector is not a model")
        r = try run(["apply", "@base.safetensors", "@tau.safetensors", "--scale", "0.5", "-o", "@applied.safetensors", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertGreaterThan(try epsilonMSE("@applied.safetensors", in: dir), 0)
    }

    /// Inputs whose configs differ (here the beta schedule) give an output without one and a note;
    /// a base without projections merged with finetunes that have them takes the finetunes' layout.
    func testDisagreeingConfigsAreDroppedWithANoteAndProjectionsPickTheOutputLayout() throws {
        let dir = TestPaths.scratchDirectory("derived-config-disagree")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, schedule) in [("lin", "linear"), ("cos", "cosine")] {
            let r = try run(["train", "--data", "digits", "--steps", "3", "--schedule", schedule, "-o", "@\(name).safetensors"] + Self.small, in: dir)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        var r = try run(["merge", "@lin.safetensors", "@cos.safetensors", "--weights", "0.5", "-o", "@m.safetensors"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("note: the output carries no tvtool.model_config") && r.stderr.contains("schedule linear"), r.stderr)
        XCTAssertNil(try Checkpoints.open(dir.appendingPathComponent("m.safetensors").path).metadata[ModelConfig.metadataKey])
        r = try run(["eval", "@m.safetensors", "--data", "digits", "--fd-samples", "0"], in: dir)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)

        r = try run(["finetune", "@lin.safetensors", "--data", "digits", "--t-range", "0:500", "--steps", "2", "--batch", "8",
                     "-o", "@p.safetensors"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try run(["merge", "@lin.safetensors", "@p.safetensors", "--weights", "1", "--missing-in-base", "identity", "-o", "@mp.safetensors", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let carried = try ModelConfig.fromMetadata(try Checkpoints.open(dir.appendingPathComponent("mp.safetensors").path).metadata, source: "mp")
        XCTAssertTrue(carried.projections)
        // Weight 1 on the only finetune reproduces it: the same held-out error.
        XCTAssertEqual(try epsilonMSE("@mp.safetensors", in: dir), try epsilonMSE("@p.safetensors", in: dir), accuracy: 1e-6)
    }

    /// A diffusers folder's config.json that is malformed is an error naming it (exit 2, one
    /// line, no output); a folder without one merges as a plain checkpoint, as before.
    func testMalformedFolderConfigIsAnErrorNamingIt() throws {
        let dir = TestPaths.scratchDirectory("derived-config-malformed")
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["a", "b"] {
            let folder = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Checkpoints.save([("w", try Tensor.fromFloats([1, 2], shape: [2]))],
                                 to: folder.appendingPathComponent("diffusion_pytorch_model.safetensors").path, metadata: [:])
        }
        var r = try run(["merge", "@a", "@b", "--weights", "0.5", "-o", "@m.safetensors", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("m.safetensors"))
        try Data(#"{"_class_name": "UNet2DModel", "sample_size": 32,"#.utf8).write(to: dir.appendingPathComponent("b/config.json"))
        r = try run(["merge", "@a", "@b", "--weights", "0.5", "-o", "@m.safetensors", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(dir.appendingPathComponent("b/config.json").path + ": bad model config: not a JSON object"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.safetensors").path))
    }
}

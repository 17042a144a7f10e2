import XCTest

/// `tvtool train`, `sample` and `eval` end to end on a tiny model (a few seconds in debug).
final class TrainerCommandsTests: XCTestCase {
    func testTrainSampleEvalAndResume() throws {
        let dir = TestPaths.scratchDirectory("tvtool-trainer")
        let model = dir.appendingPathComponent("m.safetensors").path
        let small = ["--width", "16", "--blocks", "1", "--time-embedding", "8", "--batch", "16", "--quiet"]
        var r = try TVToolBinary.run(["train", "--data", "digits", "--steps", "40", "--checkpoint-every", "20", "-o", model, "--json"] + small)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\"steps\" : 40"), r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.train-state.safetensors").path))

        r = try TVToolBinary.run(["train", "--data", "digits", "--steps", "60", "-o", model, "--resume"] + small)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("step 60"), r.stdout)

        let grid = dir.appendingPathComponent("g.png").path, raw = dir.appendingPathComponent("s.npy").path
        r = try TVToolBinary.run(["sample", model, "-n", "6", "-o", grid, "--raw", raw, "--ddim-steps", "5", "--seed", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let png = try Data(contentsOf: URL(fileURLWithPath: grid))
        XCTAssertEqual(Array(png.prefix(4)), [137, 80, 78, 71])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: raw)).count, 128 + 6 * 64 * 4)

        r = try TVToolBinary.run(["eval", model, "--data", "digits", "--fd-samples", "50", "--sampling-steps", "5", "--eval-split", "2", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((report["ranges"] as! [Any]).count, 4)
        XCTAssertEqual(report["held_out_images"] as? Int, 149)
        XCTAssertNotNil(report["frechet_distance"] as? Double)
        // The old spellings (--ddim-steps, --held-out) still work and mean the same.
        let again = try TVToolBinary.run(["eval", model, "--data", "digits", "--fd-samples", "50", "--ddim-steps", "5", "--held-out", "2", "--json"])
        XCTAssertEqual(again.stdout, r.stdout, "eval is deterministic")
    }

    func testBadInputsExitWithCode2AndOneLine() throws {
        let dir = TestPaths.scratchDirectory("tvtool-trainer")
        let missing = dir.appendingPathComponent("nope.safetensors").path
        let r = try TVToolBinary.run(["sample", missing, "-o", dir.appendingPathComponent("g.png").path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("nope.safetensors"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("g.png").path))
        let u = try TVToolBinary.run(["train", "--data", "digits", "--steps", "0", "-o", missing])
        XCTAssertEqual(u.status, 1, u.stderr)
    }
}

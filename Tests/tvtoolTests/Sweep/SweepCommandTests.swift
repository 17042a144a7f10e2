import XCTest

/// End-to-end tests of `tvtool landscape`, `search` and `sweep collect` on the built binary with
/// small shell evaluators (they score from the coordinates tvtool passes in the environment and
/// check that the candidate checkpoint exists).
final class SweepCommandTests: XCTestCase {
    /// Score = (w1 - 0.38)^2 + (w2 - 0.6)^2, after checking the candidate file is there.
    static let bowl = "test -s \"$TVTOOL_CHECKPOINT\" || exit 9; echo \"$TVTOOL_COORDINATES\" | awk -F, '{ printf \"%.10f\\n\", ($1-0.38)^2 + ($2-0.6)^2 }'"

    func testResumeAfterSIGKILLLosesAndDuplicatesNothing() throws {
        let dir = TestPaths.scratchDirectory("sweep-kill")
        let inputs = try SweepCLI.trio(in: dir)
        let log = dir.appendingPathComponent("evaluated.log").path
        let cmd = "sleep 0.1; echo $TVTOOL_POINT_ID >> \(log); " + Self.bowl
        let args = ["search"] + inputs + ["--grid", "0:1:6", "--strategy", "grid", "--eval-cmd", cmd, "--jobs", "2", "-o", "out", "--quiet"]
        let records = dir.appendingPathComponent("out/records.jsonl").path
        // Kill the run twice at different moments, then let it finish.
        for threshold in [4, 15] {
            let (p, _, _) = try SweepCLI.start(args, in: dir)
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let n = (try? String(contentsOfFile: records, encoding: .utf8))?.split(separator: "\n").count ?? 0
                if n > threshold { break }
                usleep(5_000)
            }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .uncaughtSignal)
            let done = try SweepCLI.recordIDs(records)
            XCTAssertEqual(Set(done).count, done.count, "a point was recorded twice")
            XCTAssertLessThan(done.count, 36)
        }
        let r = try SweepCLI.run(args, in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let ids = try SweepCLI.recordIDs(records)
        XCTAssertEqual(ids.count, 36)
        XCTAssertEqual(Set(ids).count, 36)
        // Every point was evaluated at least once; only points in flight at a kill were run twice.
        let evaluated = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(Set(evaluated), Set(ids))
        XCTAssertLessThanOrEqual(evaluated.count - 36, 2 * 2)
        let best = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("out/best.json"))) as! [String: Any]
        XCTAssertEqual(best["best_weights"] as? [Double], [0.4, 0.6])
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/best.safetensors").path))
        // A rerun evaluates nothing.
        let again = try SweepCLI.run(args + ["--json"], in: dir)
        let summary = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(summary?["evaluated"] as? Int, 0, again.stdout)
        XCTAssertEqual(summary?["skipped"] as? Int, 36, again.stdout)
    }

    func testShardsPlusCollectEqualTheSingleRun() throws {
        let dir = TestPaths.scratchDirectory("sweep-shards")
        let inputs = try SweepCLI.trio(in: dir)
        let common = ["landscape"] + inputs + ["--grid", "-0.2:1.2:8", "--basis", "orthonormal", "--eval-cmd", Self.bowl, "--quiet"]
        XCTAssertEqual(try SweepCLI.run(common + ["-o", "single", "--jobs", "2"], in: dir).status, 0)
        for i in 0..<3 {
            let r = try SweepCLI.run(common + ["-o", "shards", "--shard", "\(i)/3"], in: dir)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("shards/surface.csv").path))
        // Two shards only: the third shard's points are reported missing.
        let partial = try SweepCLI.run(["sweep", "collect", "shards/records-shard-0-of-3.jsonl", "shards/records-shard-1-of-3.jsonl",
                                        "-o", "partial", "--json"], in: dir)
        XCTAssertEqual(partial.status, 0, partial.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(partial.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((report["missing"] as? [String])?.count, 21)
        XCTAssertNotEqual(try SweepCLI.run(["sweep", "collect", "shards/records-shard-0-of-3.jsonl", "-o", "p2", "--strict"], in: dir).status, 0)
        let all = try SweepCLI.run(["sweep", "collect", "shards", "-o", "collected"], in: dir)
        XCTAssertEqual(all.status, 0, all.stderr)
        for file in ["surface.csv", "landscape.png"] {
            let a = try Data(contentsOf: dir.appendingPathComponent("single/\(file)"))
            let b = try Data(contentsOf: dir.appendingPathComponent("collected/\(file)"))
            XCTAssertEqual(a, b, "\(file) differs between the single run and the collected shards")
        }
        XCTAssertEqual(Set(try SweepCLI.recordIDs(dir.appendingPathComponent("collected/records.jsonl").path)).count, 64)
        // Records of another sweep are refused.
        XCTAssertEqual(try SweepCLI.run(common.dropLast() + ["--basis", "coefficients", "--quiet", "-o", "other"], in: dir).status, 0)
        let mixed = try SweepCLI.run(["sweep", "collect", "single/records.jsonl", "other/records.jsonl", "-o", "mixed"], in: dir)
        XCTAssertEqual(mixed.status, 2)
        XCTAssertTrue(mixed.stderr.contains("belongs to a different sweep"), mixed.stderr)
    }

    func testFailuresAndTimeoutsAreRecordedAndAllFailedExitsTwo() throws {
        let dir = TestPaths.scratchDirectory("sweep-fail")
        let inputs = try SweepCLI.trio(in: dir)
        // w1 = 1 fails, w1 = 0.5 hangs past the timeout, w1 = 0 succeeds.
        let cmd = "case $TVTOOL_AXIS_W1 in 1) echo 'model exploded' >&2; exit 4;; 0.5) sleep 20;; esac; echo 1.5"
        let r = try SweepCLI.run(["search"] + inputs + ["--grid", "0:1:3", "--grid", "0", "--eval-cmd", cmd, "--timeout", "1",
                                                        "--jobs", "3", "-o", "out", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try String(contentsOfFile: dir.appendingPathComponent("out/records.jsonl").path, encoding: .utf8)
        let points = text.split(separator: "\n").dropFirst().map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let byID = Dictionary(uniqueKeysWithValues: points.map { ($0["id"] as! String, $0) })
        XCTAssertEqual(byID["0,0"]?["status"] as? String, "ok")
        XCTAssertEqual(byID["1,0"]?["status"] as? String, "failed")
        XCTAssertEqual(byID["1,0"]?["stderr_tail"] as? String, "model exploded")
        XCTAssertEqual(byID["0.5,0"]?["status"] as? String, "timeout")
        // Each point's evaluator output is kept in the folder.
        let log = try String(contentsOfFile: dir.appendingPathComponent("out/logs/1,0.stderr").path, encoding: .utf8)
        XCTAssertEqual(log, "model exploded\n")
        XCTAssertEqual(try String(contentsOfFile: dir.appendingPathComponent("out/logs/0,0.stdout").path, encoding: .utf8), "1.5\n")
        let all = try SweepCLI.run(["search"] + inputs + ["--grid", "0,1", "--strategy", "grid", "--max-failures", "0",
                                                          "--eval-cmd", "exit 1", "-o", "bad", "--quiet"], in: dir)
        XCTAssertEqual(all.status, 2)
        XCTAssertTrue(all.stderr.contains("all 4 evaluated points failed"), all.stderr)
        // Fail fast (default --max-failures 3): the first failure's stderr is shown at once, then the run stops.
        let fast = try SweepCLI.run(["search"] + inputs + ["--grid", "0:1:5", "--strategy", "grid", "--eval-cmd", "echo 'CUDA out of memory' >&2; exit 1",
                                                           "-o", "fast", "--quiet"], in: dir)
        XCTAssertEqual(fast.status, 2)
        XCTAssertTrue(fast.stderr.contains("first failed evaluation") && fast.stderr.contains("CUDA out of memory"), fast.stderr)
        XCTAssertTrue(fast.stderr.contains("stopped after 3 failed evaluations"), fast.stderr)
        XCTAssertLessThan(try SweepCLI.recordIDs(dir.appendingPathComponent("fast/records.jsonl").path).count, 25)
        let usage = try SweepCLI.run(["landscape"] + inputs + ["--grid", "1:0:3", "--eval-cmd", "echo 1", "-o", "x"], in: dir)
        XCTAssertEqual(usage.status, 1, "a bad grid is a usage mistake")
        XCTAssertTrue(usage.stderr.contains("grid '1:0:3'"), usage.stderr)
    }

    /// One grid grammar: `0:1:5` is 5 values per weight for deme and search alike, and a bare
    /// decimal third field is refused by both; --dry-run prints the cost without evaluating.
    func testDemeAndSearchReadTheSameGridAndDryRunCountsEvaluations() throws {
        let pretrained = TestPaths.fixture("deme/pretrained.safetensors")
        guard FileManager.default.fileExists(atPath: pretrained) else { throw XCTSkip("fixtures/deme/pretrained.safetensors not found") }
        let dir = TestPaths.scratchDirectory("sweep-dry")
        let inputs = try SweepCLI.trio(in: dir)
        let deme = try SweepCLI.run(["deme", "--pretrained", pretrained, "--grid", "0:1:5", "--strategy", "grid", "--refine", "0", "--dry-run", "-o", "d"], in: dir)
        XCTAssertEqual(deme.status, 0, deme.stderr)
        XCTAssertTrue(deme.stderr.contains("5×5×5×5 grid (625 points): 625 evaluations"), deme.stderr)
        let search = try SweepCLI.run(["search"] + inputs + ["--grid", "0:1:5", "--strategy", "grid", "--dry-run", "--eval-cmd", "echo 1", "-o", "s"], in: dir)
        XCTAssertEqual(search.status, 0, search.stderr)
        XCTAssertTrue(search.stderr.contains("5×5 grid (25 points): 25 evaluations"), search.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("s/records.jsonl").path))
        let coord = try SweepCLI.run(["search"] + inputs + ["--grid", "0:1:11", "--refine", "2", "--dry-run", "--eval-cmd", "echo 1", "-o", "s"], in: dir)
        XCTAssertTrue(coord.stderr.contains("strategy coord") && coord.stderr.contains("at most 139 evaluations"), coord.stderr)
        for args in [["deme", "--pretrained", pretrained, "--grid", "0:1:0.25", "--dry-run"], ["search"] + inputs + ["--grid", "0:1:0.25", "--dry-run", "-o", "s"]] {
            let r = try SweepCLI.run(args, in: dir)
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.stderr.contains("0:1:step0.25"), r.stderr)
        }
    }

    func testSIGTERMStopsTheRunningEvaluationCommands() throws {
        let dir = TestPaths.scratchDirectory("sweep-term")
        let inputs = try SweepCLI.trio(in: dir)
        let started = dir.appendingPathComponent("started").path
        let marker = dir.appendingPathComponent("survived").path
        let cmd = "touch \(started); (sleep 2; touch \(marker)) & sleep 30; echo 1"
        let (p, _, _) = try SweepCLI.start(["search"] + inputs + ["--grid", "0,1", "--eval-cmd", cmd, "-o", "out", "--quiet"], in: dir)
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: started) && Date() < deadline { usleep(10_000) }
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 128 + SIGTERM)
        Thread.sleep(forTimeInterval: 2.5)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the evaluation command outlived tvtool")
        XCTAssertEqual(try SweepCLI.recordIDs(dir.appendingPathComponent("out/records.jsonl").path), [])
    }

    func testBuiltInEvaluatorLandscapeOnTrainerModels() throws {
        let pretrained = TestPaths.fixture("deme/pretrained.safetensors")
        guard FileManager.default.fileExists(atPath: pretrained) else { throw XCTSkip("fixtures/deme/pretrained.safetensors not found") }
        let dir = TestPaths.scratchDirectory("sweep-builtin")
        for (name, range) in [("low", "0:250"), ("high", "750:1000")] {
            let r = try SweepCLI.run(["finetune", pretrained, "--range", range, "--steps", "2", "--lr", "1e-2", "--ema-decay", "0",
                                      "--no-projections", "--batch", "16", "-o", "\(name).safetensors"], in: dir)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let r = try SweepCLI.run(["landscape", pretrained, "low.safetensors", "high.safetensors", "--grid", "0,1",
                                  "--t-range", "0:250", "--eval-repeats", "4", "--jobs", "2", "-o", "land", "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let csv = try String(contentsOf: dir.appendingPathComponent("land/surface.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 5)
        // Rows end in ",status,value,error" (the quoted id holds commas, so count from the end).
        let values = csv.dropFirst().map { row -> Double in
            let f = row.split(separator: ",", omittingEmptySubsequences: false)
            return Double(f[f.count - 2]) ?? .nan
        }
        XCTAssertTrue(values.allSatisfy { $0.isFinite && $0 > 0 }, "\(values)")
        XCTAssertEqual(Set(values).count, 4, "the four corners are four different models")
        let usage = try SweepCLI.run(["landscape", pretrained, "low.safetensors", "high.safetensors", "--t-range", "0:250",
                                      "--eval-cmd", "echo 1", "-o", "x"], in: dir)
        XCTAssertEqual(usage.status, 1)
    }
}

final class LandscapeViewsCommandTests: XCTestCase {
    func testLineThroughTwoCheckpointsWritesLinePlotAndExports() throws {
        let dir = TestPaths.scratchDirectory("landscape-line-cli")
        let inputs = try SweepCLI.trio(in: dir)
        let score = "echo \"$TVTOOL_COORDINATES\" | awk '{ printf \"%.10f\\n\", ($1-0.3)^2 }'"
        let r = try SweepCLI.run(["landscape", inputs[0], inputs[1], "--grid", "0.2:0.8:7", "--eval-cmd", score, "-o", "line", "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["evaluated"] as? Int, 7)
        // base (t = 0) and a (t = 1) both lie outside [0.2, 0.8]: reported with their coordinates.
        let off = try XCTUnwrap(report["off_grid"] as? [[String: Any]])
        XCTAssertEqual(off.map { $0["label"] as? String }, ["base", "a"])
        XCTAssertEqual(off.map { $0["coordinates"] as? [Double] }, [[0], [1]])
        for key in ["surface", "vts", "plot", "csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: try XCTUnwrap(report[key] as? String)), key)
        }
        let plain = try SweepCLI.run(["landscape", inputs[0], inputs[1], "--grid", "0.2:0.8:7", "--eval-cmd", score, "-o", "line"], in: dir)
        XCTAssertTrue(plain.stderr.contains("note: a lies outside the grid at (t) = (1.0)"), plain.stderr)
        // Usage mistakes exit 1.
        XCTAssertEqual(try SweepCLI.run(["landscape"] + inputs + ["a.safetensors", "--eval-cmd", "echo 1", "-o", "x"], in: dir).status, 1)
        XCTAssertEqual(try SweepCLI.run(["landscape"] + inputs + ["--directions", "hessian2", "--eval-cmd", "echo 1", "-o", "x"], in: dir).status, 1)
        XCTAssertEqual(try SweepCLI.run(["landscape", inputs[0], inputs[1], "--directions", "pca", "--eval-cmd", "echo 1", "-o", "x"], in: dir).status, 1)
        // Two trajectory checkpoints can never span a PCA plane (centred: one direction): a usage
        // error saying how many are needed, not a failure after reading every checkpoint.
        let two = try SweepCLI.run(["landscape"] + inputs + ["--directions", "pca", "--eval-cmd", "echo 1", "-o", "x"], in: dir)
        XCTAssertEqual(two.status, 1, two.stderr)
        XCTAssertTrue(two.stderr.contains("at least three trajectory checkpoints"), two.stderr)
    }

    /// A search over two weights writes landscape.png (grid, refinement points, inputs, best); a
    /// search over three weights writes none.
    func testTwoWeightSearchIsDrawnAsALandscape() throws {
        let dir = TestPaths.scratchDirectory("search-landscape")
        let inputs = try SweepCLI.trio(in: dir)
        let score = "awk -v a={w1} -v b={w2} 'BEGIN { printf \"%.10f\\n\", (a-0.3)^2 + (b-0.6)^2 }'"
        let r = try SweepCLI.run(["search"] + inputs + ["--grid", "0:1:5", "--strategy", "grid", "--refine", "1",
                                                        "--eval-cmd", score, "-o", "s", "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let plot = try XCTUnwrap(report["plot"] as? String)
        let png = try Data(contentsOf: URL(fileURLWithPath: plot))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let best = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("s/best.json"))) as! [String: Any]
        XCTAssertEqual(best["plot"] as? String, plot)
        // The refinement round found the optimum between grid points.
        XCTAssertEqual(try XCTUnwrap(best["best_weights"] as? [Double])[0], 0.3, accuracy: 0.07)
        // Three weights: no plot, and no key in the report.
        try SweepCLI.writeSafetensors(dir.appendingPathComponent("c.safetensors").path,
                                      [("w", (0..<6).map { Float($0) }, [2, 3]), ("b", [1, 1], [2])])
        let three = try SweepCLI.run(["search"] + inputs + ["c.safetensors", "--grid", "0,1", "--strategy", "grid",
                                                            "--eval-cmd", "echo 1", "-o", "t", "--json"], in: dir)
        XCTAssertEqual(three.status, 0, three.stderr)
        XCTAssertNil((try JSONSerialization.jsonObject(with: Data(three.stdout.utf8)) as! [String: Any])["plot"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("t/landscape.png").path))
    }

    /// Regression: the PCA and Hessian paths took an explicit `--grid -0.2:1.2:29` (the plane's
    /// default text) for "no --grid" and replaced it by their own default grids.
    func testExplicitDefaultGridTextIsHonouredByPCAAndHessian() throws {
        let dir = TestPaths.scratchDirectory("landscape-grid-default")
        let inputs = try SweepCLI.trio(in: dir)
        // Trajectory a, b, base relative to a (two directions; the trio alone spans one).
        let pca = ["landscape", inputs[0], inputs[1], inputs[2], inputs[0], "--directions", "pca", "--eval-cmd", "echo 1", "--dry-run", "-o", "p"]
        let explicit = try SweepCLI.run(pca + ["--grid", "-0.2:1.2:29"], in: dir)
        XCTAssertEqual(explicit.status, 0, explicit.stderr)
        XCTAssertTrue(explicit.stderr.contains("29×29 grid (841 points)"), explicit.stderr)
        let derived = try SweepCLI.run(pca, in: dir)
        XCTAssertTrue(derived.stderr.contains("21×21 grid (441 points)"), derived.stderr)
        let pretrained = TestPaths.fixture("deme/pretrained.safetensors")
        guard FileManager.default.fileExists(atPath: pretrained) else { throw XCTSkip("fixtures/deme/pretrained.safetensors not found") }
        let hessian = ["landscape", pretrained, "--directions", "hessian", "--dry-run", "-o", "h"]
        let h1 = try SweepCLI.run(hessian + ["--grid", "-0.2:1.2:29"], in: dir)
        XCTAssertEqual(h1.status, 0, h1.stderr)
        XCTAssertTrue(h1.stderr.contains("29×29 grid (841 points)"), h1.stderr)
        XCTAssertTrue(try SweepCLI.run(hessian, in: dir).stderr.contains("21×21 grid (441 points)"))
        // The power-iteration settings: checked up front (exit 1), and only with --directions hessian.
        XCTAssertEqual(try SweepCLI.run(hessian + ["--power-iterations", "5", "--fd-step", "1e-2", "--power-tolerance", "1e-3", "--seed", "3"], in: dir).status, 0)
        for bad in [["--power-iterations", "0"], ["--fd-step", "0"], ["--fd-step", "nan"], ["--power-tolerance", "-1"]] {
            let r = try SweepCLI.run(hessian + bad, in: dir)
            XCTAssertEqual(r.status, 1, "\(bad): \(r.stderr)")
        }
        XCTAssertEqual(try SweepCLI.run(pca + ["--power-iterations", "5"], in: dir).status, 1)
    }
}

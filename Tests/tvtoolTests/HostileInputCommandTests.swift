import XCTest

/// Regression tests for issue 13 at the command line: each runs the built tvtool.
final class HostileInputCommandTests: XCTestCase {
    private func scratch(_ label: String) -> URL { TestPaths.scratchDirectory(label) }

    /// Waits for `p` at most `seconds`; kills it and fails when it runs longer (a hang).
    private func finish(_ p: (Process, Pipe, Pipe), within seconds: Double, _ what: String) -> SweepCLI.Result {
        let deadline = Date().addingTimeInterval(seconds)
        while p.0.isRunning && Date() < deadline { usleep(10_000) }
        if p.0.isRunning { kill(p.0.processIdentifier, SIGKILL); XCTFail("\(what) hung") }
        let out = p.1.fileHandleForReading.readDataToEndOfFile(), err = p.2.fileHandleForReading.readDataToEndOfFile()
        p.0.waitUntilExit()
        return SweepCLI.Result(status: p.0.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    func testNamedPipesDoNotHang() throws {
        let dir = scratch("cli-fifo")
        XCTAssertEqual(mkfifo(dir.appendingPathComponent("m.safetensors").path, 0o600), 0)
        XCTAssertEqual(mkfifo(dir.appendingPathComponent("r.yaml").path, 0o600), 0)
        let r1 = finish(try SweepCLI.start(["inspect", "m.safetensors"], in: dir), within: 10, "inspect of a pipe")
        XCTAssertEqual(r1.status, 2, r1.stderr)
        let r2 = finish(try SweepCLI.start(["merge", "--recipe", "r.yaml", "-o", "o.safetensors"], in: dir), within: 10, "a pipe as recipe")
        XCTAssertEqual(r2.status, 2, r2.stderr)
        XCTAssertTrue(r2.stderr.contains("not a regular file"), r2.stderr)
    }

    /// Every writing command checks all outputs against all inputs before doing any work.
    func testOutputsReplacingInputsAreRefusedFirst() throws {
        let dir = scratch("cli-replace")
        let inputs = try SweepCLI.trio(in: dir)
        let original = try Data(contentsOf: dir.appendingPathComponent(inputs[1]))
        let ran = dir.appendingPathComponent("ran").path
        var r = try SweepCLI.run(["search"] + inputs + ["--grid", "0,1", "--eval-cmd", "touch \(ran); echo 1",
                                                         "--best-output", inputs[1], "-o", "out", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("refusing to overwrite an input"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ran), "an evaluation ran before the refusal")
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent(inputs[1])), original)

        try FileManager.default.createDirectory(at: dir.appendingPathComponent("L"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: dir.appendingPathComponent(inputs[0]), to: dir.appendingPathComponent("L/surface.h5"))
        r = try SweepCLI.run(["landscape", "L/surface.h5", inputs[1], inputs[2], "--grid", "0,1", "--eval-cmd", "echo 1", "-o", "L", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("L/surface.h5"), r.stderr)
        // The line path (and PCA/Hessian) go through the same check, with a readable HDF5 input
        // (before, the line ran its evaluations and replaced it).
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("M"), withIntermediateDirectories: true)
        r = try SweepCLI.run(["convert", inputs[0], "M/surface.h5"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let h5 = try Data(contentsOf: dir.appendingPathComponent("M/surface.h5"))
        r = try SweepCLI.run(["landscape", "M/surface.h5", inputs[1], "--line", "--grid", "0,1", "--eval-cmd", "touch \(ran); echo 1",
                              "-o", "M", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("M/surface.h5"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("M/surface.h5")), h5)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ran), "a line evaluation ran before the refusal")

        r = try SweepCLI.run(["train", "--data", inputs[1], "--steps", "1", "-o", inputs[1]], in: dir)
        XCTAssertEqual(r.status, 2, r.stderr)
        let state = inputs[1].replacingOccurrences(of: ".safetensors", with: "") + "-x.train-state.safetensors"
        try FileManager.default.copyItem(at: dir.appendingPathComponent(inputs[1]), to: dir.appendingPathComponent(state))
        r = try SweepCLI.run(["train", "--data", state, "--steps", "1", "-o", state.replacingOccurrences(of: ".train-state", with: "")], in: dir)
        XCTAssertEqual(r.status, 2, r.stderr)
        r = try SweepCLI.run(["sample", inputs[1], "--raw", inputs[1], "-o", "g.png"], in: dir)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent(inputs[1])), original)

        XCTAssertEqual(link(dir.appendingPathComponent(inputs[0]).path, dir.appendingPathComponent("hard.safetensors").path), 0)
        r = try SweepCLI.run(["merge", inputs[0], inputs[1], "--weights", "1", "-o", "hard.safetensors", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 2, r.stderr)
    }

    func testControlCharactersInNamesAndMetadataAreEscaped() throws {
        let dir = scratch("cli-escape")
        // JSON-escaped in the header (as any writer must): ESC, BEL, CSI reach the name itself.
        let evil = #"b\u001b]0;pwned\u0007\u001b[2J\u009b31m"#
        try SweepCLI.writeSafetensors(dir.appendingPathComponent("a.safetensors").path, [("a", [1, 2], [2]), (evil, [1, 2], [2])])
        try SweepCLI.writeSafetensors(dir.appendingPathComponent("b.safetensors").path, [("a", [1, 3], [2]), (evil, [2, 2], [2])])
        for args in [["inspect", "a.safetensors"], ["diff", "a.safetensors", "b.safetensors", "--top", "0"]] {
            let r = try SweepCLI.run(args, in: dir)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertFalse(r.stdout.unicodeScalars.contains { $0 == "\u{1b}" || $0 == "\u{7}" || $0 == "\u{9b}" }, r.stdout)
            XCTAssertTrue(r.stdout.contains("b\\u{1b}]0;pwned\\u{7}"), r.stdout)
        }
    }

    func testNonFiniteOptionIsAUsageErrorNamingIt() throws {
        let dir = scratch("cli-nan")
        let inputs = try SweepCLI.trio(in: dir)
        let r = try SweepCLI.run(["merge", inputs[0], inputs[1], "--lambda", "nan", "-o", "o.safetensors"], in: dir)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("--lambda") && r.stderr.contains("finite"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    }

    /// 3e38 * 2 overflows F32: an error naming the tensor and no output, unless allowed.
    func testNonFiniteMergeResultIsReported() throws {
        let dir = scratch("cli-inf")
        try SweepCLI.writeSafetensors(dir.appendingPathComponent("base.safetensors").path, [("w", [0, 0, 0], [3])])
        try SweepCLI.writeSafetensors(dir.appendingPathComponent("ft.safetensors").path, [("w", [1, 3e38, 1], [3])])
        var r = try SweepCLI.run(["merge", "base.safetensors", "ft.safetensors", "--weights", "2", "-o", "o.safetensors", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("tensor 'w'") && r.stderr.contains("element 1"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("o.safetensors").path))
        r = try SweepCLI.run(["merge", "base.safetensors", "ft.safetensors", "--weights", "2", "-o", "o.safetensors", "--quiet",
                              "--allow-nonfinite"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// Inputs copied through unchanged follow the same rule as merged tensors: a NaN/inf in a
    /// tensor only one model has (`--keys union`) or only the base has is an error naming the
    /// tensor and its file, no output; `--allow-nonfinite` writes it as is.
    func testNonFiniteCopiedTensorIsReported() throws {
        let dir = scratch("cli-inf-copy")
        try SweepCLI.writeSafetensors(dir.appendingPathComponent("base.safetensors").path, [("w", [0, 0], [2])])
        try SweepCLI.writeSafetensors(dir.appendingPathComponent("ft.safetensors").path, [("w", [1, 1], [2]), ("extra", [1, .nan], [2])])
        try SweepCLI.writeSafetensors(dir.appendingPathComponent("base2.safetensors").path, [("w", [0, 0], [2]), ("only", [.infinity, 0], [2])])
        try SweepCLI.writeSafetensors(dir.appendingPathComponent("ft2.safetensors").path, [("w", [1, 1], [2])])
        for (inputs, tensor, element) in [(["base.safetensors", "ft.safetensors"], "extra", 1), (["base2.safetensors", "ft2.safetensors"], "only", 0)] {
            let args = ["merge"] + inputs + ["--weights", "0.5", "--keys", "union", "-o", "o.safetensors", "--quiet"]
            var r = try SweepCLI.run(args, in: dir)
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("tensor '\(tensor)'") && r.stderr.contains("element \(element)"), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("o.safetensors").path))
            r = try SweepCLI.run(args + ["--allow-nonfinite"], in: dir)
            XCTAssertEqual(r.status, 0, r.stderr)
            try FileManager.default.removeItem(at: dir.appendingPathComponent("o.safetensors"))
        }
    }

    func testOverflowingGridIsAnErrorWithoutRecords() throws {
        let dir = scratch("cli-grid")
        let inputs = try SweepCLI.trio(in: dir)
        for grid in ["-1e308:1.7e308:3", "-1e308:1e308:0.5"] {  // usage (1) or bad input (2): never a trap
            let r = try SweepCLI.run(["search"] + inputs + ["--grid", grid, "--eval-cmd", "echo 1", "-o", "out", "--quiet"], in: dir)
            XCTAssertTrue(r.status == 1 || r.status == 2, r.stderr)
            XCTAssertTrue(r.stderr.contains(grid), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/records.jsonl").path))
        }
    }

    func testHDF5WriteFailureIsOneLine() throws {
        let dir = scratch("cli-rank")
        try SweepCLI.writeSafetensors(dir.appendingPathComponent("r.safetensors").path, [("x", [1], [Int](repeating: 1, count: 33))])
        let r = try SweepCLI.run(["convert", "r.safetensors", "r.h5", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertFalse(r.stderr.contains("HDF5-DIAG"), r.stderr)
    }

    func testConvertSaysWhatItDropsAndNeverWritesAnEmptyModel() throws {
        let dir = scratch("cli-convert")
        var r = try SweepCLI.run(["convert", TestPaths.fixture("hostile/complex.h5"), "c.safetensors", "--json", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning:") && r.stderr.contains("complex128"), r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        XCTAssertTrue((json?["notes"] as? [String])?.contains { $0.contains("/w") } == true, r.stdout)
        r = try SweepCLI.run(["convert", TestPaths.fixture("hostile/list_model.pt"), "l.safetensors", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("no tensors") && r.stderr.contains("model (list)"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("l.safetensors").path))
    }

    /// SIGHUP and SIGUSR1 get the SIGINT/SIGTERM shutdown: evaluation process groups killed,
    /// no candidate left, exit 128 + signal.
    func testOtherTerminatingSignalsCleanUp() throws {
        for sig in [SIGHUP, SIGUSR1] {
            let dir = scratch("cli-sig")
            let tmp = dir.appendingPathComponent("tmp")
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            let inputs = try SweepCLI.trio(in: dir)
            let started = dir.appendingPathComponent("started").path
            let marker = dir.appendingPathComponent("survived").path
            let cmd = "touch \(started); (sleep 2; touch \(marker)) & sleep 30; echo 1"
            let p = try SweepCLI.start(["search"] + inputs + ["--grid", "0,1", "--eval-cmd", cmd, "--tmp-dir", tmp.path, "-o", "out", "--quiet"], in: dir)
            let deadline = Date().addingTimeInterval(30)
            while !FileManager.default.fileExists(atPath: started) && Date() < deadline { usleep(10_000) }
            kill(p.0.processIdentifier, sig)
            p.0.waitUntilExit()
            XCTAssertEqual(p.0.terminationStatus, 128 + sig)
            Thread.sleep(forTimeInterval: 2.5)
            XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the evaluation command outlived tvtool")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp.path), [], "candidates left behind")
        }
    }

    /// Fuzzer finds: a damaged global heap that a virtual dataset's layout points into made
    /// libhdf5 loop forever inside H5Dopen2. The heap check now runs before libhdf5 opens any
    /// object: exit 2, one line, fast (the watchdog kills a regression instead of hanging CI).
    func testDamagedHeapBehindVirtualDatasetDoesNotHang() throws {
        let dir = scratch("cli-vds-loop")
        for n in 1...2 {
            let file = TestPaths.fixture("hostile/vds_heap_loop_\(n).h5")
            for args in [["inspect", file], ["convert", file, "o.safetensors", "--quiet"]] {
                let r = finish(try SweepCLI.start(args, in: dir), within: 20, "\(args[0]) of vds_heap_loop_\(n).h5")
                XCTAssertEqual(r.status, 2, r.stderr)
                XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
                XCTAssertTrue(r.stderr.contains("global heap") && r.stderr.contains("vds_heap_loop_\(n).h5"), r.stderr)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("o.safetensors").path))
        }
    }

    /// Fuzz find: a contiguous dataset whose dimensions were damaged ([2, 2] -> [131072,
    /// 131072], 68.7 GB over 16 stored bytes) made convert allocate 68 GB and abort; chunked
    /// datasets with chunks never written declared 4 GiB or 512 GiB in a few KB, and merge,
    /// convert and inspect planned (and merge allocated) by the declared shape. Each is now
    /// refused when the file is opened: exit 2, one line naming the file and the dataset, no output.
    func testHugeDeclaredShapesAreRefusedBeforeAnyAllocation() throws {
        let dir = scratch("cli-huge-shape")
        for file in ["contiguous_dims_damaged.h5", "chunked_unwritten_huge.h5", "chunked_partly_written.h5", "gzip_partly_written.h5"] {
            let path = TestPaths.fixture("hostile/" + file)
            for args in [["inspect", path], ["convert", path, "o.safetensors", "--quiet"],
                         ["merge", path, path, "--weights", "0.5", "-o", "o.safetensors", "--quiet"]] {
                let r = finish(try SweepCLI.start(args, in: dir), within: 30, "\(args[0]) of \(file)")
                XCTAssertEqual(r.status, 2, "\(args[0]) \(file): \(r.stderr)")
                XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
                XCTAssertTrue(r.stderr.contains(file) && r.stderr.contains("but the file stores"), r.stderr)
                XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("o.safetensors").path))
            }
        }
        let lie = TestPaths.fixture("hostile/deflated_size_lie.pt")
        for args in [["inspect", lie], ["merge", lie, lie, "--weights", "0.5", "-o", "o.safetensors", "--quiet"]] {
            let r = finish(try SweepCLI.start(args, in: dir), within: 30, "\(args[0]) of deflated_size_lie.pt")
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("impossible compression ratio"), r.stderr)
        }
    }

    /// Virtual datasets pointing back into their own file (a -> b -> a, self, unlimited and
    /// printf-style mappings) and an external link to the file itself are listed as skipped,
    /// never followed: exit 0, fast (fixtures/hostile/make_vds_loops.c).
    func testVirtualDatasetLoopsAreSkippedNotFollowed() throws {
        let dir = scratch("cli-vds-self")
        let file = TestPaths.fixture("hostile/vds_loops.h5")
        let r = finish(try SweepCLI.start(["inspect", file], in: dir), within: 20, "inspect of vds_loops.h5")
        XCTAssertEqual(r.status, 0, r.stderr)
        for name in ["a", "b", "self", "unl", "pf0"] {
            XCTAssertTrue(r.stdout.contains("skipped /\(name): virtual dataset"), r.stdout)
        }
        let c = finish(try SweepCLI.start(["convert", file, "o.safetensors", "--quiet"], in: dir), within: 20, "convert of vds_loops.h5")
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertEqual(c.stderr.split(separator: "\n").count, 5, c.stderr)  // one warning per skipped dataset
    }
}

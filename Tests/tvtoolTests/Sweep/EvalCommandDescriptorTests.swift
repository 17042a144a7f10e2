import XCTest

/// Issue 13: `--eval-cmd` commands started concurrently (--jobs 2) inherit only stdin, stdout and
/// stderr: no other evaluation's pipe ends (which would keep that evaluation's output open until
/// the wrong process exits) and nothing else tvtool holds open (records, candidates, mapped
/// checkpoints). A fast evaluation's result is recorded while a slow one still runs.
final class EvalCommandDescriptorTests: XCTestCase {
    func testConcurrentEvaluationsInheritOnlyTheirOwnDescriptors() throws {
        let dir = TestPaths.scratchDirectory("evalcmd-fds")
        let inputs = try SweepCLI.trio(in: dir)
        // Each command records its shell's pid, then waits: point 0 long, point 1 briefly.
        let cmd = #"echo $$ > "pid-$TVTOOL_POINT_ID"; if [ "$TVTOOL_POINT_ID" = 0 ]; then sleep 8; else sleep 2; fi; echo 1"#
        let start = Date()
        let p = try SweepCLI.start(["search", inputs[0], inputs[1], "--grid", "0,1", "--strategy", "grid", "--jobs", "2",
                                    "--eval-cmd", cmd, "-o", "out", "--quiet"], in: dir)
        defer { if p.0.isRunning { kill(p.0.processIdentifier, SIGKILL) } }
        let pidFiles = ["0", "1"].map { dir.appendingPathComponent("pid-\($0)").path }
        while !pidFiles.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) && Date().timeIntervalSince(start) < 30 {
            usleep(20_000)
        }
        usleep(300_000)  // past the redirection of `echo $$`
        for file in pidFiles {
            let pid = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap(Int.init).sorted()
            let targets = fds.map { fd in (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) ?? "?" }
            XCTAssertEqual(fds, [0, 1, 2], "\(file): inherited \(zip(fds, targets).map { "\($0)->\($1)" })")
        }
        // The fast point's record arrives while the slow one still runs.
        let records = dir.appendingPathComponent("out/records.jsonl").path
        var ids: [String] = []
        while Date().timeIntervalSince(start) < 30 {
            ids = pointIDs(records)
            if !ids.isEmpty { break }
            usleep(20_000)
        }
        XCTAssertEqual(ids, ["1"], "the first record should be the fast point's")
        XCTAssertLessThan(Date().timeIntervalSince(start), 7.5, "the fast point waited for the slow one")
        p.0.waitUntilExit()
        XCTAssertEqual(p.0.terminationStatus, 0)
        XCTAssertEqual(Set(pointIDs(records)), ["0", "1"])
    }

    /// Ids of the complete point lines written so far.
    private func pointIDs(_ path: String) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: true).dropLast(text.hasSuffix("\n") ? 0 : 1).compactMap { line in
            let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return obj?["type"] as? String == "point" ? obj?["id"] as? String : nil
        }
    }
}

import XCTest
@testable import TVSweep
@testable import TVSearch

/// Issue 13: `--eval-cmd` output is kept as a bounded tail and the timeout holds however much
/// the command prints; candidates of a killed run are removed when the next run starts.
final class ShellCommandBoundsTests: XCTestCase {
    func testEndlessOutputIsBoundedAndTimedOut() throws {
        let start = Date()
        let r = try ShellCommand.run("yes 1.0", environment: [:], timeout: 1, scratchDirectory: NSTemporaryDirectory())
        XCTAssertTrue(r.timedOut)
        XCTAssertLessThan(Date().timeIntervalSince(start), 8)
        XCTAssertLessThanOrEqual(r.stdout.count, ShellCommand.stdoutLimit)
    }

    func testTailKeepsTheLastLine() throws {
        let r = try ShellCommand.run("head -c 5000000 /dev/zero | tr '\\0' x; echo; echo 0.25; echo oops >&2", environment: [:],
                                     timeout: 30, scratchDirectory: NSTemporaryDirectory())
        XCTAssertFalse(r.timedOut)
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertLessThanOrEqual(r.stdout.count, ShellCommand.stdoutLimit)
        XCTAssertEqual(try ScoreParser().score(fromStdout: r.stdout), 0.25)
        XCTAssertEqual(String(decoding: r.stderr, as: UTF8.self), "oops\n")
    }

    func testStaleCandidatesOfDeadProcessesAreRemoved() throws {
        let dir = TestPaths.scratchDirectory("stale")
        // pid 2^22 + 1 is above Linux's largest pid: never a live process.
        let dead = ["tvtool-candidate-4194305-1.safetensors", ".tvtool-candidate-4194305-2.safetensors.tmp-abc123"]
        let alive = ["tvtool-candidate-\(getpid())-3.safetensors", "tvtool-candidate-1-4.safetensors", "other.safetensors"]
        for name in dead + alive { FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data()) }
        ExternalCommandEvaluator.removeStaleCandidates(in: dir.path)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)), Set(alive))
    }
}

extension ShellCommandBoundsTests {
    /// A whole run resuming in its folder removes outputs half-written by a SIGKILLed run.
    func testStaleOutputTemporariesAreRemovedOnResume() throws {
        let dir = TestPaths.scratchDirectory("stale-out")
        let stale = [".best.safetensors.tmp-Ab12Cd", ".results.csv.tmp-xyzXYZ"]
        let kept = ["best.json", ".hidden", ".tvtool-candidate-\(getpid())-1.safetensors.tmp-aaaaaa", "notes.tmp-123456"]
        for name in stale + kept { FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data()) }
        SweepSession.removeStaleTemporaries(in: dir.path)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)), Set(kept))
    }
}

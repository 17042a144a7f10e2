import XCTest
@testable import TVSweep

/// Writes the point's coordinates as text instead of a checkpoint, and remembers the paths it
/// wrote, so the tests can check that candidates are removed again.
final class TextCandidates: CandidateWriting, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var written: [String] = []
    func writeCandidate(at coordinates: [Double], to path: String, metadata: [String: String]) throws {
        try coordinates.map { "\($0)" }.joined(separator: " ").write(toFile: path, atomically: true, encoding: .utf8)
        lock.lock(); written.append(path); lock.unlock()
    }
}

final class ExternalCommandEvaluatorTests: XCTestCase {
    private var dir: URL!
    override func setUp() { dir = TestPaths.scratchDirectory("external-eval") }

    private func script(_ name: String, _ body: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try ("#!/bin/sh\n" + body).write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    private func evaluator(_ command: String, timeout: Double = 20, field: String? = nil, candidates: TextCandidates) -> ExternalCommandEvaluator {
        ExternalCommandEvaluator(command: command, candidates: candidates, axisNames: ["a", "b"], timeout: timeout,
                                 parser: ScoreParser(field: field), candidateExtension: "txt", scratchDirectory: dir.path)
    }

    func testSucceedingCommandReadsTheCandidateAndPrintsTheScore() throws {
        // The score is computed from the candidate file's content: a + 10 b.
        let s = try script("ok.sh", """
            echo "loading $1" >&2
            echo "some progress output"
            read a b < "$1"
            echo "$a $b" | awk '{ printf "{\\"fid\\": %.6f, \\"n\\": 3}\\n", $1 + 10 * $2 }'
            """)
        let c = TextCandidates()
        let e = evaluator("\(s) {checkpoint} {a}", field: "fid", candidates: c)
        XCTAssertEqual(try e.evaluate(SweepPoint(coordinates: [0.5, 0.25], index: 0)), 3.0, accuracy: 1e-9)
        XCTAssertEqual(c.written.count, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: c.written[0]), "candidate not removed")
        // Bare-number output and environment variables.
        let bare = evaluator("echo $TVTOOL_AXIS_A; echo \"$TVTOOL_COORDINATES\" >&2; echo 7.25", candidates: c)
        XCTAssertEqual(try bare.evaluate(SweepPoint(coordinates: [1, 2], index: 0)), 7.25)
    }

    func testFailingCommandIsRecordedWithItsStderrTail() throws {
        let s = try script("fail.sh", "echo 'Traceback: CUDA out of memory' >&2\nexit 3\n")
        let c = TextCandidates()
        let e = evaluator(s + " {checkpoint}", candidates: c)
        XCTAssertThrowsError(try e.evaluate(SweepPoint(coordinates: [0, 0], index: 0))) { err in
            let f = err as! EvaluationFailure
            XCTAssertEqual(f.status, .failed)
            XCTAssertEqual(f.message, "the command exited with status 3")
            XCTAssertEqual(f.stderrTail, "Traceback: CUDA out of memory")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: c.written[0]))
        let garbage = evaluator("echo not-a-number", candidates: c)
        XCTAssertThrowsError(try garbage.evaluate(SweepPoint(coordinates: [0, 0], index: 0)))
        let nan = evaluator("echo nan", candidates: c)
        XCTAssertThrowsError(try nan.evaluate(SweepPoint(coordinates: [0, 0], index: 0)))
    }

    func testTimeoutKillsTheWholeProcessGroup() throws {
        let marker = dir.appendingPathComponent("grandchild-alive").path
        // The command starts a grandchild that would write a marker after 3 s unless killed.
        let s = try script("slow.sh", "echo started >&2\n(sleep 3; touch \(marker)) &\nsleep 30\necho 1\n")
        let c = TextCandidates()
        let e = evaluator(s, timeout: 0.5, candidates: c)
        let start = Date()
        XCTAssertThrowsError(try e.evaluate(SweepPoint(coordinates: [0, 0], index: 0))) { err in
            let f = err as! EvaluationFailure
            XCTAssertEqual(f.status, .timeout)
            XCTAssertEqual(f.stderrTail, "started")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        XCTAssertFalse(FileManager.default.fileExists(atPath: c.written[0]))
        Thread.sleep(forTimeInterval: 3.5)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the grandchild survived the timeout")
    }
}

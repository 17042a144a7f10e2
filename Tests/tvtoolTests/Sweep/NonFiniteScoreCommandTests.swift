import XCTest

/// Issue 13: a NaN/inf score (the --eval-cmd prints "nan" or "inf") is a failed point, drawn as
/// failed, left out of the best, and the run goes on (such points do not count toward
/// --max-failures, default 3); the summary says how many there were.
final class NonFiniteScoreCommandTests: XCTestCase {
    /// Score w1 (grid strategy, one axis), except NaN at 0.2, 0.4, 0.6 and inf at 0.8: four
    /// non-finite points, more than --max-failures.
    static let script = #"case "$TVTOOL_POINT_ID" in 0.2|0.4|0.6) echo nan ;; 0.8) echo inf ;; *) echo "$TVTOOL_POINT_ID" ;; esac"#

    func testSearchRecordsNonFiniteScoresAndGoesOn() throws {
        let dir = TestPaths.scratchDirectory("nonfinite-search")
        let inputs = try SweepCLI.trio(in: dir)
        let r = try SweepCLI.run(["search", inputs[0], inputs[1], "--grid", "0:1:6", "--strategy", "grid", "--maximize",
                                  "--eval-cmd", Self.script, "-o", "out"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("6 evaluated (4 failed, 4 of them a NaN/inf score, left out of the best)"), r.stderr)
        let best = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("out/best.json"))) as? [String: Any]
        XCTAssertEqual(best?["best_value"] as? Double, 1, "\(best ?? [:])")  // not inf, although maximizing
        let lines = try String(contentsOf: dir.appendingPathComponent("out/records.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["type"] as? String == "point" }
        XCTAssertEqual(lines.count, 6)
        let failed = lines.filter { $0["status"] as? String == "failed" }
        XCTAssertEqual(failed.count, 4)
        XCTAssertTrue(failed.allSatisfy { ($0["error"] as? String)?.hasPrefix("the score is not finite") == true }, "\(failed)")
    }

    func testJSONReportCountsNonFiniteScores() throws {
        let dir = TestPaths.scratchDirectory("nonfinite-json")
        let inputs = try SweepCLI.trio(in: dir)
        let r = try SweepCLI.run(["search", inputs[0], inputs[1], "--grid", "0:1:6", "--strategy", "grid",
                                  "--eval-cmd", Self.script, "-o", "out", "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(report?["non_finite"] as? Int, 4, r.stdout)
        XCTAssertEqual(report?["failed"] as? Int, 4, r.stdout)
    }

    /// Other failures still stop the run after --max-failures.
    func testOtherFailuresStillCountTowardMaxFailures() throws {
        let dir = TestPaths.scratchDirectory("nonfinite-maxfail")
        let inputs = try SweepCLI.trio(in: dir)
        let r = try SweepCLI.run(["search", inputs[0], inputs[1], "--grid", "0:1:6", "--strategy", "grid",
                                  "--eval-cmd", "exit 3", "--max-failures", "2", "-o", "out", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("--max-failures 2"), r.stderr)
    }
}

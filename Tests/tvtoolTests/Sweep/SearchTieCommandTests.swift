import XCTest

/// `search`'s documented tie rule: of points with the same best score, the earliest in the
/// search's order (round, then point index) wins, not the one that finished first.
final class SearchTieCommandTests: XCTestCase {
    func testTiedBestIsTheFirstPointOfTheSearchOrderWhateverFinishesFirst() throws {
        let dir = TestPaths.scratchDirectory("search-ties")
        let inputs = try SweepCLI.trio(in: dir)
        // Every point scores 1; the first point (0,0) finishes last under --jobs 2.
        let eval = #"case "$TVTOOL_COORDINATES" in 0,0) sleep 1;; esac; echo 1"#
        let r = try SweepCLI.run(["search"] + inputs + ["--grid", "0,1", "--strategy", "grid", "--jobs", "2", "--eval-cmd", eval,
                                                         "-o", "s", "--quiet", "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let best = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("s/best.json"))) as? [String: Any]
        XCTAssertEqual(best?["best_id"] as? String, "0,0", "\(String(describing: best))")
        let records = try String(contentsOf: dir.appendingPathComponent("s/records.jsonl"), encoding: .utf8)
        let order = records.split(separator: "\n").compactMap { line -> String? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
        }
        XCTAssertNotEqual(order.first, "0,0", "the tie-break is only tested when 0,0 is not evaluated first: \(order)")
    }
}

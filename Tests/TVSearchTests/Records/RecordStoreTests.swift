import XCTest
@testable import TVSearch

final class RecordStoreTests: XCTestCase {
    private func manifest(_ evaluator: String = "test") throws -> SweepManifest {
        SweepManifest(kind: "search", axisNames: ["w1", "w2"], grid: try GridSpec.parse(["0:1:3"], dimensions: 2),
                      inputs: ["base", "a", "b"], evaluator: evaluator)
    }

    func testAppendReloadAndRefuseOtherSweeps() throws {
        let dir = TestPaths.scratchDirectory("records")
        let path = dir.appendingPathComponent("records.jsonl").path
        let m = try manifest()
        do {
            let store = try RecordStore(path: path, manifest: m)
            XCTAssertTrue(store.existing.isEmpty)
            try store.append(PointRecord(point: m.grid.point(at: 0), status: .ok, value: 1.5, seconds: 0.1))
            try store.append(PointRecord(point: m.grid.point(at: 1), status: .failed, value: nil, error: "boom, \"quoted\"",
                                         stderrTail: "line1\nline2", seconds: 0.2))
            XCTAssertThrowsError(try RecordStore(path: path, manifest: m)) { e in
                XCTAssertEqual(e as? RecordError, .busy(path))
            }
        }
        let again = try RecordStore(path: path, manifest: m)
        XCTAssertEqual(again.existing.count, 2)
        XCTAssertEqual(again.existing[1].stderrTail, "line1\nline2")
        XCTAssertThrowsError(try RecordStore(path: dir.appendingPathComponent("records.jsonl").path, manifest: try manifest("other")))
        let csv = RecordsCSV.render(RecordSet(again.existing).records, axisNames: m.axisNames)
        XCTAssertEqual(csv, "id,round,index,w1,w2,status,value,standard_error,error\n\"0,0\",0,0,0,0,ok,1.5,,\n\"0,0.5\",0,1,0,0.5,failed,,,\"boom, \"\"quoted\"\"\"\n")
    }

    /// An evaluator's error may carry control characters: escaped as the terminal shows them
    /// (line breaks included, so a row stays one line), then quoted per RFC 4180.
    func testCSVCellsCarryNoRawControlCharacters() throws {
        let m = try manifest()
        let record = PointRecord(point: m.grid.point(at: 0), status: .failed, value: nil,
                                 error: "x\u{1b}[2J\u{7}\r\ny\t\u{9b}z", seconds: 0)
        XCTAssertEqual(RecordsCSV.render([record], axisNames: m.axisNames),
                       "id,round,index,w1,w2,status,value,standard_error,error\n\"0,0\",0,0,0,0,failed,,,x\\u{1b}[2J\\u{7}\\u{d}\\u{a}y\\u{9}\\u{9b}z\n")
        XCTAssertEqual(RecordsCSV.field("a,\"b\"\n"), "\"a,\"\"b\"\"\\u{a}\"")
    }

    /// Ties go to the earliest point in the search's order (round, then index), not to the
    /// record seen first (parallel jobs and shards finish in any order).
    func testTiedBestIsTheEarliestPointInTheSearchOrder() throws {
        let m = try manifest()
        let p = m.grid.points()
        func record(_ i: Int, round: Int, _ v: Double) -> PointRecord {
            PointRecord(point: SweepPoint(coordinates: p[i].coordinates, index: p[i].index, round: round), status: .ok, value: v, seconds: 0)
        }
        let tied = [record(4, round: 1, 1), record(3, round: 0, 1), record(2, round: 0, 1), record(5, round: 0, 2)]
        for order in [tied, tied.reversed(), [tied[1], tied[0], tied[3], tied[2]]] {
            XCTAssertEqual(RecordSet(order).best(.minimize)?.id, p[2].id)
            XCTAssertEqual(RecordSet(order).best(.maximize)?.id, p[5].id)
        }
    }

    func testTornLastLineIsIgnoredAndCutBeforeAppending() throws {
        let dir = TestPaths.scratchDirectory("records")
        let path = dir.appendingPathComponent("records.jsonl").path
        let m = try manifest()
        do {
            let store = try RecordStore(path: path, manifest: m)
            try store.append(PointRecord(point: m.grid.point(at: 0), status: .ok, value: 1, seconds: 0))
        }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        h.seekToEndOfFile()
        h.write(Data("{\"type\":\"point\",\"id\":\"0,0.5\",\"coordi".utf8))
        try h.close()
        let loaded = try RecordStore.load(path: path)
        XCTAssertTrue(loaded.tornTail)
        XCTAssertEqual(loaded.records.count, 1)
        do {
            let store = try RecordStore(path: path, manifest: m)
            try store.append(PointRecord(point: m.grid.point(at: 1), status: .ok, value: 2, seconds: 0))
        }
        let reloaded = try RecordStore.load(path: path)
        XCTAssertFalse(reloaded.tornTail)
        XCTAssertEqual(reloaded.records.map(\.value), [1, 2])
        // A bad line in the middle is corruption, reported with its line number.
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"type\":\"point\",\"coordinates\":[0,0]", with: "garbage")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RecordStore.load(path: path)) { e in
            XCTAssertEqual((e as? RecordError).map { "\($0)" }, "\(path): line 2: not a JSON record")
        }
    }

    func testRecordSetPrefersOkAndFindsBest() throws {
        let m = try manifest()
        let p = m.grid.points()
        var set = RecordSet([
            PointRecord(point: p[0], status: .failed, value: nil, seconds: 0),
            PointRecord(point: p[0], status: .ok, value: 3, seconds: 0),
            PointRecord(point: p[1], status: .ok, value: 2, seconds: 0),
            PointRecord(point: p[2], status: .timeout, value: nil, seconds: 0),
        ])
        set.add(PointRecord(point: p[0], status: .failed, value: nil, seconds: 0))
        XCTAssertEqual(set.byID[p[0].id]?.value, 3)
        XCTAssertEqual(set.best(.minimize)?.id, p[1].id)
        XCTAssertEqual(set.best(.maximize)?.id, p[0].id)
        XCTAssertTrue(set.isDone(p[2].id, retryFailed: false))
        XCTAssertFalse(set.isDone(p[2].id, retryFailed: true))
        XCTAssertFalse(set.isDone(p[3].id, retryFailed: false))
    }
}

final class SweepManifestTests: XCTestCase {
    func testFingerprintTracksValuesNotCosmetics() throws {
        let grid = try GridSpec.parse(["0:1:3"], dimensions: 2)
        let m = SweepManifest(kind: "landscape", axisNames: ["a", "b"], grid: grid, inputs: ["x"], evaluator: "e",
                              settings: ["basis": "coefficients", "value_name": "loss"])
        var renamed = m
        renamed.settings["value_name"] = "fid"
        renamed.toolVersion = "9.9"
        XCTAssertEqual(m.fingerprint, renamed.fingerprint)
        var other = m
        other.settings["basis"] = "orthonormal"
        XCTAssertNotEqual(m.fingerprint, other.fingerprint)
        // Records are keyed by point: another grid, strategy or budget keeps the fingerprint.
        var otherGrid = m
        otherGrid.grid = try GridSpec.parse(["0:1:4"], dimensions: 2)
        otherGrid.strategy = .coord
        otherGrid.maxEvals = 7
        XCTAssertEqual(m.fingerprint, otherGrid.fingerprint)
        XCTAssertNil(m.difference(from: otherGrid))
        var otherEvaluator = m
        otherEvaluator.evaluator = "f"
        XCTAssertEqual(otherEvaluator.difference(from: m), "evaluator is 'e' in the records but 'f' in this run")
        XCTAssertEqual(other.difference(from: m), "basis is 'coefficients' in the records but 'orthonormal' in this run")
        XCTAssertEqual(m.fingerprint.count, 16)
    }
}

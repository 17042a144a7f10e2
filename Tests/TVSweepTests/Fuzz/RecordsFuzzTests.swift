import XCTest
@testable import TVSweep

/// Fuzz target for records JSONL (a resumed or collected sweep reads them back).
final class RecordsFuzzTests: XCTestCase {
    func testFuzzRecords() throws {
        var fuzz = Fuzzer(target: "records")
        let dir = TestPaths.scratchDirectory("fuzz-records")
        let seedPath = dir.appendingPathComponent("seed.jsonl").path
        let m = SweepManifest(kind: "search", axisNames: ["w1", "w2"], grid: try GridSpec.parse(["0:1:3"], dimensions: 2),
                              inputs: ["base", "a", "b"], evaluator: "test")
        do {
            let store = try RecordStore(path: seedPath, manifest: m)
            try store.append(PointRecord(point: m.grid.point(at: 0), status: .ok, value: 1.5, seconds: 0.1))
            try store.append(PointRecord(point: m.grid.point(at: 1), status: .failed, value: nil, error: "boom",
                                         stderrTail: "line1\nline2", seconds: 0.2))
            try store.append(PointRecord(point: m.grid.point(at: 2), status: .ok, value: -3e-7, seconds: 0.3))
        }
        let seed = fuzzSeed(seedPath)
        XCTAssertFalse(seed.isEmpty)
        let path = dir.appendingPathComponent("records.jsonl").path
        let markers = ["\"value\":", "\"coordinates\":", "\"index\":", "\"round\":", "\n", "\"grid\":"].map { Array($0.utf8) }
        while fuzz.next() {
            let mutant = fuzz.chance(0.5) ? fuzz.mutate(seed) : fuzz.mutateNear(markers[fuzz.int(0..<markers.count)], in: seed, window: 12)
            FileManager.default.createFile(atPath: path, contents: Data(mutant))
            do { _ = try RecordStore.load(path: path) } catch {
                XCTAssertTrue(error is RecordError, "untyped error \(type(of: error)): \(error)")
                XCTAssertFalse("\(error)".contains("\n"), "multi-line error: \(error)")
            }
        }
        print("records fuzz: \(fuzz.summary)")
    }
}

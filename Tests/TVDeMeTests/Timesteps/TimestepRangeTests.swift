import XCTest
@testable import TVDeMe
import TVTrainer

final class TimestepRangeTests: XCTestCase {
    func testEqualRangesTileTheSchedule() throws {
        let r = try TimestepRange.equalRanges(count: 4, total: 1000)
        XCTAssertEqual(r.map(\.lower), [0, 250, 500, 750])
        XCTAssertEqual(r.map(\.upper), [250, 500, 750, 1000])
        // Uneven split: no gaps, no overlaps, every t in exactly one range.
        let odd = try TimestepRange.equalRanges(count: 3, total: 1000)
        for t in 0..<1000 { XCTAssertEqual(odd.filter { $0.contains(t) }.count, 1, "t=\(t)") }
        XCTAssertEqual(odd.first?.lower, 0)
        XCTAssertEqual(odd.last?.upper, 1000)
    }

    func testHalfOpen() throws {
        let r = try TimestepRange.parse("0:250")
        XCTAssertTrue(r.contains(0))
        XCTAssertTrue(r.contains(249))
        XCTAssertFalse(r.contains(250))
        XCTAssertEqual(r.label, "[0,250)")
    }

    func testRejectsBadRanges() {
        XCTAssertThrowsError(try TimestepRange.parse("250:250"))
        XCTAssertThrowsError(try TimestepRange.parse("-1:10"))
        XCTAssertThrowsError(try TimestepRange.parse("0-250"))
        XCTAssertThrowsError(try TimestepRange.equalRanges(count: 0, total: 1000))
    }
}

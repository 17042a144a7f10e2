import XCTest
@testable import TVDeMe

final class PairedComparisonTests: XCTestCase {
    func testMeanDifferenceAndStandardErrorByHand() throws {
        // d = [-1, -2, -3]: mean -2, sample variance 1, SE = 1/sqrt(3).
        let c = try PairedComparison([1, 2, 3], [2, 4, 6])
        XCTAssertEqual(c.meanDifference, -2, accuracy: 1e-12)
        XCTAssertEqual(c.standardError, 1 / 3.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(c.zScore, -2 * 3.0.squareRoot(), accuracy: 1e-9)
        XCTAssertTrue(c.aBeatsB())
        XCTAssertFalse(c.bBeatsA())
        XCTAssertEqual(c.verdict, "better")
    }

    func testPairingRemovesSharedVariance() throws {
        // Large item-to-item spread, constant small improvement: paired SE is zero, so it "beats".
        let base = (0..<50).map { Double($0) * 10 }
        let c = try PairedComparison(base.map { $0 - 0.01 }, base)
        XCTAssertEqual(c.standardError, 0, accuracy: 1e-9)
        XCTAssertTrue(c.aBeatsB())
        // Noise larger than the effect: a tie.
        let t = try PairedComparison([1, 3, 1, 3], [2, 2, 2, 2])
        XCTAssertEqual(t.verdict, "tie")
    }

    func testRejectsMismatchedOrTooFewItems() {
        XCTAssertThrowsError(try PairedComparison([1, 2], [1]))
        XCTAssertThrowsError(try PairedComparison([1], [1]))
    }

    func testMeanAndSpread() {
        let m = MeanAndSpread([1, 2, 3, 4])
        XCTAssertEqual(m.mean, 2.5)
        XCTAssertEqual(m.standardDeviation, (5.0 / 3).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(MeanAndSpread([7]).standardDeviation, 0)
    }
}

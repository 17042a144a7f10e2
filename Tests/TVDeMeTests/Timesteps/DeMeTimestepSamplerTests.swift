import XCTest
@testable import TVDeMe
import TVTrainer
import TVStorage

final class DeMeTimestepSamplerTests: XCTestCase {
    func testAntitheticPairsFollowTheOfficialConstruction() {
        for b in [1, 2, 7, 8, 128] {
            var rng = SplitMix64(seed: UInt64(b))
            let t = DeMeTimestepSampler.antitheticPairs(count: b, lo: 250, hi: 500, using: &rng)
            XCTAssertEqual(t.count, b)
            let k = b / 2 + 1
            XCTAssertTrue(t.allSatisfy { (250..<500).contains($0) }, "b=\(b)")
            // Element j and k+j mirror each other around the range's centre: t + t' = lo + hi - 1.
            for j in 0..<max(0, b - k) { XCTAssertEqual(t[j] + t[k + j], 749, "b=\(b) j=\(j)") }
        }
    }

    func testLocalBatchesStayInsideTheRangeAndGlobalOnesCoverTheSchedule() throws {
        let s = try DeMeTimestepSampler(range: try TimestepRange.parse("750:1000"), total: 1000, globalProbability: 0.3)
        var rng = SplitMix64(seed: 7)
        var sawOutside = false
        for _ in 0..<500 {
            let (t, global) = s.sample(batch: 16, using: &rng)
            XCTAssertTrue(t.allSatisfy { (0..<1000).contains($0) })
            if !global { XCTAssertTrue(t.allSatisfy { (750..<1000).contains($0) }) }
            if global && t.contains(where: { $0 < 750 }) { sawOutside = true }
        }
        XCTAssertTrue(sawOutside, "global batches should reach below the range")
    }

    func testCoinRateMatchesPWithinBinomialTolerance() throws {
        for p in [0.0, 0.3, 0.5, 1.0] {
            let s = try DeMeTimestepSampler(range: try TimestepRange.parse("0:250"), total: 1000, globalProbability: p)
            var rng = SplitMix64(seed: 42)
            let n = 20_000
            var hits = 0
            for _ in 0..<n where s.sample(batch: 4, using: &rng).global { hits += 1 }
            let sd = (p * (1 - p) / Double(n)).squareRoot()
            // 5 standard deviations: a false failure has probability ~6e-7.
            XCTAssertEqual(Double(hits) / Double(n), p, accuracy: 5 * sd + 1e-12, "p=\(p)")
        }
    }

    func testRejectsBadProbabilityAndRange() throws {
        XCTAssertThrowsError(try DeMeTimestepSampler(range: try TimestepRange.parse("0:250"), total: 1000, globalProbability: 1.5))
        XCTAssertThrowsError(try DeMeTimestepSampler(range: try TimestepRange.parse("900:1100"), total: 1000, globalProbability: 0.3))
    }
}

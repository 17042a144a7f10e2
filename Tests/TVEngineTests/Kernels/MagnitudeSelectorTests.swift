import XCTest
@testable import TVEngine

final class MagnitudeSelectorTests: XCTestCase {
    /// The two-pass histogram selection equals sorting, for many ranks, on data with ties.
    func testMatchesSorting() {
        var values = randomFloats(50_000, seed: 3)
        for i in stride(from: 0, to: values.count, by: 7) { values[i] = 0.25 }  // ties
        let sorted = values.map { abs($0) }.sorted(by: >)
        let ranks = [1, 2, 100, 7143, 7144, 25_000, 49_999]
        let selector = MagnitudeSelector(ranks: [ranks], segments: 2)
        values.withUnsafeBufferPointer { p in
            selector.feedCoarse(segment: 0, model: 0, p.baseAddress!, count: 20_000)
            selector.feedCoarse(segment: 1, model: 0, p.baseAddress! + 20_000, count: 30_000)
            if selector.finishCoarse() {
                selector.feedFine(segment: 1, model: 0, p.baseAddress!, count: 20_000)
                selector.feedFine(segment: 0, model: 0, p.baseAddress! + 20_000, count: 30_000)
            }
        }
        let t = selector.thresholds()[0]
        for (i, k) in ranks.enumerated() {
            XCTAssertEqual(t[i], sorted[k - 1].bitPattern, "rank \(k)")
        }
    }

    func testEdgeRanks() {
        let values: [Float] = [1, -2, 3]
        let selector = MagnitudeSelector(ranks: [[0, 3, 5]], segments: 1)
        values.withUnsafeBufferPointer { selector.feedCoarse(segment: 0, model: 0, $0.baseAddress!, count: 3) }
        XCTAssertFalse(selector.finishCoarse())
        XCTAssertEqual(selector.thresholds()[0], [MagnitudeSelector.keepNothing, MagnitudeSelector.keepAll, MagnitudeSelector.keepAll])
    }
}

final class CounterRandomTests: XCTestCase {
    func testUniformIsStableAndUniform() {
        let key = CounterRandom.streamKey(seed: 1, tensor: "x", model: 0)
        XCTAssertEqual(CounterRandom.uniform(key: key, index: 5), CounterRandom.uniform(key: key, index: 5))
        XCTAssertNotEqual(key, CounterRandom.streamKey(seed: 1, tensor: "x", model: 1))
        let n = 100_000
        let mean = (0..<n).reduce(0.0) { $0 + Double(CounterRandom.uniform(key: key, index: $1)) } / Double(n)
        XCTAssertEqual(mean, 0.5, accuracy: 0.005)
    }
}

import Foundation
import XCTest
@testable import TVTrainer

/// The single-threaded OpenBLAS scope: one thread inside, the caller's count restored only when
/// the last of several nested or concurrent scopes ends.
final class BLASThreadsTests: XCTestCase {
    func testNestedAndConcurrentScopesRestoreTheCountAtTheEnd() {
        let previous = BLASThreads.current
        defer { BLASThreads.set(previous) }
        BLASThreads.set(2)
        let seen = ResultSlots<[Int]>(count: 4)
        BLASThreads.singleThreaded {
            XCTAssertEqual(BLASThreads.current, 1)
            // Scopes that start and end on other threads while this one runs leave it at 1.
            DispatchQueue.concurrentPerform(iterations: 4) { w in
                var counts: [Int] = []
                for _ in 0..<50 {
                    BLASThreads.singleThreaded { counts.append(BLASThreads.current) }
                    counts.append(BLASThreads.current)
                }
                seen.set(w, counts)
            }
            XCTAssertEqual(BLASThreads.current, 1)
        }
        XCTAssertEqual(Set(seen.values.flatMap { $0 }), [1])
        XCTAssertEqual(BLASThreads.current, 2)
    }

    func testSetInsideAScopeTakesEffectWhenItEnds() {
        let previous = BLASThreads.current
        defer { BLASThreads.set(previous) }
        BLASThreads.set(1)
        BLASThreads.singleThreaded {
            BLASThreads.set(2)
            XCTAssertEqual(BLASThreads.current, 1)
        }
        XCTAssertEqual(BLASThreads.current, 2)
        BLASThreads.singleThreaded(if: false) { XCTAssertEqual(BLASThreads.current, 2) }
    }
}

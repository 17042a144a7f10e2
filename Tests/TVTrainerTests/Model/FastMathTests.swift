import Foundation
import XCTest
@testable import TVTrainer

final class FastMathTests: XCTestCase {
    /// The vectorisable exp against libm over the range SiLU uses (and the clamped tails).
    func testExpRelativeError() {
        var worst = 0.0
        for i in 0...200_000 {
            let x = Float(-87 + 175 * Double(i) / 200_000)
            let ref = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(FastMath.exp(x)) - ref) / ref)
        }
        XCTAssertLessThan(worst, 5e-7)
        XCTAssertEqual(FastMath.exp(0), 1)
        XCTAssertTrue(FastMath.exp(-200) >= 0 && FastMath.exp(-200) < 1e-37)
        XCTAssertTrue(FastMath.exp(200).isFinite)
    }
}

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

extension FastMathTests {
    func testSIMDExpMatchesScalar() {
        for i in 0..<1000 {
            let base = Float(-90 + 0.18 * Double(i))
            let v = SIMD4<Float>((0..<4).map { base + Float($0) * 0.01 })
            let e = FastMath.exp(v)
            for k in 0..<4 { XCTAssertEqual(e[k], FastMath.exp(v[k]), "x = \(v[k])") }
        }
    }
}

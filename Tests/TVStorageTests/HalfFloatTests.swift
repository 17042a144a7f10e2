import XCTest
@testable import TVStorage

final class HalfFloatTests: XCTestCase {
    /// Every finite F16 value survives F16 -> F32 -> F16 unchanged; NaNs stay NaN.
    func testF16RoundTripAllPatterns() {
        for bits in 0...0xffff {
            let h = UInt16(bits)
            let f = HalfFloat.f16ToF32(h)
            let swiftRef = Float(Float16(bitPattern: h))
            if swiftRef.isNaN {
                XCTAssertTrue(f.isNaN, "pattern \(bits)")
                XCTAssertTrue(HalfFloat.f16ToF32(HalfFloat.f32ToF16(f)).isNaN)
            } else {
                XCTAssertEqual(f.bitPattern, swiftRef.bitPattern, "pattern \(bits)")
                XCTAssertEqual(HalfFloat.f32ToF16(f), h, "pattern \(bits)")
            }
        }
    }
}

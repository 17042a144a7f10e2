import XCTest
import TVStorage
@testable import TVEngine

/// Issue 13: a merge whose result overflows (3e38 · 2 in F32, or any value beyond F16's range
/// when writing F16) is an error naming the tensor and element, in both the fused kernel and
/// the chunked path; `allowNonFinite` writes it. Oracle: the element set to 3e38 by hand.
extension FusedLinearTests {
    func testNonFiniteResultIsAnErrorInBothPaths() throws {
        let n = 70_001, hot = 5_000
        var big = [Float](repeating: 0.5, count: n)
        big[hot] = 3e38
        let base = MemoryReader("base", [("w", try Tensor.fromFloats([Float](repeating: 0, count: n), shape: [n]))])
        let model = MemoryReader("m", [("w", try Tensor.fromFloats(big, shape: [n]))])
        for fused in [true, false] {
            for (coefficient, outDType) in [(2.0, DType.f32), (1.0, DType.f16)] {
                let inputs = MergeInputs(base: base, models: [model])
                let plan = TensorPlan.linear(baseScale: 1, coefficients: [coefficient])
                XCTAssertThrowsError(try run(inputs, plan: plan, outDType: outDType, fused: fused, allowNonFinite: false)) { error in
                    guard case let .notFinite(tensor, what)? = error as? EngineError else { return XCTFail("\(error)") }
                    XCTAssertEqual(tensor, "w")
                    XCTAssertTrue(what.contains("element \(hot)"), what)
                }
                XCTAssertNoThrow(try run(inputs, plan: plan, outDType: outDType, fused: fused, allowNonFinite: true))
            }
        }
        // Finite results pass untouched.
        let inputs = MergeInputs(base: base, models: [model])
        XCTAssertNoThrow(try run(inputs, plan: .linear(baseScale: 1, coefficients: [1]), outDType: .f32, fused: true, allowNonFinite: false))
    }
}

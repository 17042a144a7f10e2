import XCTest
@testable import TVDeMe

final class TaskArithmeticTests: XCTestCase {
    private func set(_ a: [Float], _ b: [Float]) throws -> ParameterSet {
        try ParameterSet(names: ["w", "b"], shapes: [[2, 2], [2]], values: [a, b])
    }

    func testZeroWeightsGiveTheBaseBitForBit() throws {
        let base = try set([0.1, -0.2, 0.3, 1e-8], [7, -0])
        let ft1 = try set([0.5, 0.5, 0.5, 0.5], [1, 2])
        let ft2 = try set([-3, 2, 1e6, 0], [0, 0])
        let m = try TaskArithmetic(base: base, finetuned: [ft1, ft2]).merged(weights: [0, 0])
        for i in 0..<2 {
            XCTAssertEqual(m.values[i].map(\.bitPattern), base.values[i].map(\.bitPattern))
        }
    }

    func testUnitWeightGivesTheFinetunedModelAndSumsAreLinear() throws {
        let base = try set([1, 2, 3, 4], [0, 1])
        let ft1 = try set([2, 2, 2, 2], [1, 1])
        let ft2 = try set([0, 4, 3, 8], [0, 3])
        let ta = try TaskArithmetic(base: base, finetuned: [ft1, ft2])
        XCTAssertEqual(try ta.merged(weights: [1, 0]), ft1)
        XCTAssertEqual(try ta.merged(weights: [0, 1]), ft2)
        // theta + 0.5 tau1 + 0.25 tau2, computed by hand.
        let m = try ta.merged(weights: [0.5, 0.25])
        XCTAssertEqual(m.values[0], [1.25, 2.5, 2.5, 4.0])
        XCTAssertEqual(m.values[1], [0.5, 1.5])
        // Reusing a buffer gives the same result.
        var buf = base
        try ta.merge(weights: [0.5, 0.25], into: &buf)
        XCTAssertEqual(buf, m)
    }

    func testLayoutMismatchNamesTheTensor() throws {
        let base = try set([1, 2, 3, 4], [0, 1])
        let other = try ParameterSet(names: ["w", "b"], shapes: [[4], [2]], values: [[1, 2, 3, 4], [0, 1]])
        XCTAssertThrowsError(try TaskArithmetic(base: base, finetuned: [other], paths: ["ft.safetensors"])) { e in
            XCTAssertTrue("\(e)".contains("ft.safetensors") && "\(e)".contains("'w'"), "\(e)")
        }
        XCTAssertThrowsError(try TaskArithmetic(base: base, finetuned: [base]).merged(weights: [1, 2]))
    }
}

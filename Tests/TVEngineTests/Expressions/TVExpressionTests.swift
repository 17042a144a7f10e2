import XCTest
import TVStorage
@testable import TVEngine

final class TVExpressionTests: XCTestCase {
    let a: [Float] = [1, 0, 2, -1]
    let b: [Float] = [0, 1, 2, 1]

    func evaluate(_ e: TVExpression, taskVector: [Bool]? = nil) throws -> [Float] {
        let readers = [MemoryReader("a", [("x", tensor(a))]), MemoryReader("b", [("x", tensor(b))])]
        var o = MergeOptions()
        o.progress = false
        let ev = try ExpressionEvaluator(sources: readers, sourceIsTaskVector: taskVector, options: o)
        let box = WriterBox()
        _ = try ev.evaluate(e, writer: box.factory)
        return try box.writer!.floats("x")
    }

    func testArithmetic() throws {
        XCTAssertEqual(try evaluate(.source(1) - .source(0)), [-1, 1, 0, 2])
        XCTAssertEqual(try evaluate(-(.source(0)) + 2 * .source(1)), [-1, 2, 2, 3])
        XCTAssertEqual(try evaluate(.lerp(.source(0), .source(1), t: 0.5)), [0.5, 0.5, 2, 0])
        XCTAssertEqual(try evaluate(.apply(.source(1) - .source(0), to: .source(0), scale: 2)), [-1, 2, 2, 3])
        XCTAssertEqual(try evaluate(.weightedSum([(0.5, .source(0)), (0.5, .source(1))])), [0.5, 0.5, 2, 0])
    }

    func testTaskVectorSourcesAreAddedAsTheyAre() throws {
        // b is a task vector: a + 0.5 b.
        XCTAssertEqual(try evaluate(.apply(.source(1), to: .source(0), scale: 0.5), taskVector: [false, true]), [1, 0.5, 3, -0.5])
    }

    func testSlerpMatchesFormula() throws {
        let got = try evaluate(.slerp(.source(0), .source(1), t: 0.25))
        let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        let na = a.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot(), nb = b.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
        let om = acos(dot / (na * nb))
        for i in 0..<4 {
            let e = sin(0.75 * om) / sin(om) * Double(a[i]) + sin(0.25 * om) / sin(om) * Double(b[i])
            XCTAssertEqual(Double(got[i]), e, accuracy: 1e-6)
        }
    }

    func testDescriptionForProvenance() {
        XCTAssertEqual((TVExpression.source(1) - .source(0)).description, "$1 - $0")
        XCTAssertEqual(TVExpression.apply(.source(1) - .source(0), to: .source(0), scale: 0.5).description, "$0 + 0.5*($1 - $0)")
        XCTAssertEqual(TVExpression.slerp(.source(0), .source(1), t: 0.3).description, "slerp($0, $1, 0.3)")
    }

    func testUnknownSourceIsAnError() {
        XCTAssertThrowsError(try evaluate(.source(0) + .source(5)))
    }
}

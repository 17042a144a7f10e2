import XCTest
import TVStorage
@testable import TVEngine

/// Methods on in-memory checkpoints, against formulas written out element by element here.
final class MergeMethodsTests: XCTestCase {
    let n = 70_000  // above the parallel threshold, so chunking and threads are exercised

    func inputs(models: Int = 4) -> (MergeInputs, [Float], [[Float]]) {
        let base = randomFloats(n, seed: 1)
        let fts = (0..<models).map { m in zip(base, randomFloats(n, seed: 10 + UInt64(m), scale: 0.1)).map { $0 + $1 } }
        let reader = MemoryReader("base", [("w", tensor(base)), ("step", try! Tensor(dtype: .i64, shape: [], storage: ByteStorage(copying: [7, 0, 0, 0, 0, 0, 0, 0])))])
        let models = fts.enumerated().map { i, f in
            MemoryReader("m\(i)", [("w", tensor(f)), ("step", try! Tensor(dtype: .i64, shape: [], storage: ByteStorage(copying: [9, 0, 0, 0, 0, 0, 0, 0])))])
        }
        return (MergeInputs(base: reader, models: models), base, fts)
    }

    func merge(_ name: String, _ inputs: MergeInputs, _ params: MergeParameters = MergeParameters(),
               options: MergeOptions = MergeOptions()) throws -> MemoryWriter {
        var o = options
        o.progress = false
        let box = WriterBox()
        _ = try Merger.merge(method: try MergeMethods.named(name), inputs: inputs, parameters: params, options: o, writer: box.factory)
        return box.writer!
    }

    func testTaskArithmeticIsDeMeFormula() throws {
        let (inp, base, fts) = inputs()
        let w = [0.1, 0.1, 0.2, 0.5]
        let out = try merge("task_arithmetic", inp, MergeParameters(global: ["weight": .perModel(w)]))
        let got = try out.floats("w")
        for j in stride(from: 0, to: n, by: 997) {
            var e = Double(base[j])
            for i in 0..<4 { e += w[i] * Double(fts[i][j] - base[j]) }
            XCTAssertEqual(Double(got[j]), e, accuracy: 1e-6)
        }
        // Integer tensors come from the base, untouched.
        XCTAssertEqual(out.written["step"]!.storage.buffer.first, 7)
        XCTAssertNotNil(out.metadata[Provenance.metadataKey])
        XCTAssertTrue(out.finished)
    }

    func testLinearNormalisesWeights() throws {
        let (inp, _, fts) = inputs(models: 2)
        let out = try merge("linear", inp, MergeParameters(global: ["weight": .perModel([1, 3])]))
        let got = try out.floats("w")
        for j in stride(from: 0, to: n, by: 1009) {
            XCTAssertEqual(got[j], (fts[0][j] + 3 * fts[1][j]) / 4, accuracy: 1e-6)
        }
    }

    func testF64ComputeMatches() throws {
        let (inp, base, fts) = inputs(models: 1)
        var o = MergeOptions()
        o.precision = .f64
        o.outDType = .f64
        let out = try merge("lerp", inp, MergeParameters(global: ["t": .scalar(0.3)]), options: o)
        let got = try out.written["w"]!.doubles()
        for j in stride(from: 0, to: n, by: 1013) {
            XCTAssertEqual(got[j], Double(base[j]) + 0.3 * (Double(fts[0][j]) - Double(base[j])), accuracy: 1e-12)
        }
    }

    func testTiesPerTensorKeepsTopDensity() throws {
        let (inp, base, fts) = inputs(models: 1)
        let out = try merge("ties", inp, MergeParameters(global: ["density": .scalar(0.2)]))
        let got = try out.floats("w")
        let kept = (0..<n).filter { got[$0] != base[$0] }.count
        XCTAssertEqual(kept, Int(Double(n) * 0.2), accuracy: 2)
        // Every kept entry is at least as large as every dropped one.
        let tau = (0..<n).map { abs(fts[0][$0] - base[$0]) }
        let minKept = (0..<n).filter { got[$0] != base[$0] }.map { tau[$0] }.min()!
        let maxDropped = (0..<n).filter { got[$0] == base[$0] }.map { tau[$0] }.max()!
        XCTAssertGreaterThanOrEqual(minKept, maxDropped)
    }

    func testDareIsSeededAndRescales() throws {
        let (inp, base, fts) = inputs(models: 1)
        var o = MergeOptions()
        o.seed = 42
        let p = MergeParameters(global: ["density": .scalar(0.3)])
        let a = try merge("dare_linear", inp, p, options: o).floats("w")
        let b = try merge("dare_linear", inp, p, options: o).floats("w")
        XCTAssertEqual(a, b)
        o.seed = 43
        XCTAssertNotEqual(a, try merge("dare_linear", inp, p, options: o).floats("w"))
        var kept = 0
        for j in 0..<n where a[j] != base[j] {
            kept += 1
            XCTAssertEqual(a[j] - base[j], (fts[0][j] - base[j]) / 0.3, accuracy: 1e-5)
        }
        // Binomial(n, 0.3): 5 standard deviations.
        let sd = (Double(n) * 0.3 * 0.7).squareRoot()
        XCTAssertEqual(Double(kept), Double(n) * 0.3, accuracy: 5 * sd)
    }

    func testUnknownMethodAndParameterAreErrors() throws {
        let (inp, _, _) = inputs(models: 2)
        XCTAssertThrowsError(try merge("nope", inp))
        XCTAssertThrowsError(try merge("task_arithmetic", inp, MergeParameters(global: ["density": .scalar(0.5)])))
        XCTAssertThrowsError(try merge("task_arithmetic", inp, MergeParameters(global: ["weight": .perModel([1, 2, 3])])))
        XCTAssertThrowsError(try merge("slerp", inp))  // needs exactly one model
    }
}

import XCTest
import TVStorage
@testable import TVEngine

/// FusedSelection's fallback: when the threshold bins hold more than n + 65,536 values (every
/// |tau| tied), the thresholds come from MagnitudeSelector's two histogram passes instead. The
/// fused and the portable path must still agree bit for bit, and every tied entry is kept.
final class FusedSelectionTests: XCTestCase {
    func testEveryMagnitudeTiedFallsBackAndKeepsAllTies() throws {
        let n = 70_000
        let base = (0..<n).map { Float($0 % 97) * 0.015625 - 0.5 }  // multiples of 1/64: tau below is exact
        // Model i: |tau| = (i + 1) / 32 everywhere (exact in F32 here), signs in a pattern.
        var models: [[Float]] = []
        for i in 0..<4 {
            let size = Float(i + 1) * 0.03125
            models.append((0..<n).map { (j: Int) -> Float in
                let negative = (j * 7 + i * 3) % 5 < 2
                return base[j] + (negative ? -size : size)
            })
        }
        let inputs = MergeInputs(base: MemoryReader("base", [("w", tensor(base))]),
                                 models: models.enumerated().map { MemoryReader("m\($0.offset)", [("w", tensor($0.element))]) })
        let p = MergeParameters(global: ["weight": .perModel([0.1, 0.1, 0.2, 0.5]), "density": .scalar(0.2)])
        var outputs: [[Float]] = []
        for fused in [true, false] {
            var o = MergeOptions()
            o.progress = false
            o.workers = 2
            o.fusedKernels = fused
            let box = WriterBox()
            _ = try Merger.merge(method: try MergeMethods.named("ties"), inputs: inputs, parameters: p, options: o, writer: box.factory)
            outputs.append(try box.writer!.floats("w"))
        }
        XCTAssertEqual(outputs[0].map(\.bitPattern), outputs[1].map(\.bitPattern))
        // Every entry kept (density 0.2 notwithstanding): the merged delta is never zero, and an
        // element where all four agree is their weighted mean.
        let w: [Float] = [0.1, 0.1, 0.2, 0.5]
        for j in 0..<n {
            XCTAssertNotEqual(outputs[0][j], base[j], "element \(j)")
            let taus = models.map { $0[j] - base[j] }
            if taus.allSatisfy({ $0 > 0 }) {
                var sum: Float = 0
                for i in 0..<4 { sum += w[i] * taus[i] }
                let mean: Float = sum / 0.9
                XCTAssertEqual(outputs[0][j], base[j] + mean, accuracy: 1e-6, "element \(j)")
            }
        }
    }
}

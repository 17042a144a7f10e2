import XCTest
@testable import TVTrainer

final class EvaluationSetTests: XCTestCase {
    func data(_ n: Int) -> ImageDataset {
        ImageDataset(channels: 1, height: 2, width: 2, values: (0..<(4 * n)).map { Float($0 % 7) / 7 }, source: "t")
    }

    func testTimestepsAreStratifiedAndSeeded() {
        let set = EvaluationSet(data: data(5), repeats: 8, seed: 1)
        XCTAssertEqual(set.count, 40)
        for i in 0..<5 { for k in 0..<8 { XCTAssertTrue((k * 125)..<((k + 1) * 125) ~= set.t[i * 8 + k]) } }
        XCTAssertEqual(EvaluationSet(data: data(5), repeats: 8, seed: 1).eps, set.eps)
        XCTAssertNotEqual(EvaluationSet(data: data(5), repeats: 8, seed: 2).t, set.t)
    }

    /// A denoiser predicting zeros has error mean(eps²) per triple: checks the per-image/per-range bookkeeping.
    func testPerImageAndPerRangeValues() {
        final class Zero: Denoiser {
            let dataDimension = 4
            func predictEpsilon(x: [Float], t: [Int]) -> [Float] { [Float](repeating: 0, count: x.count) }
        }
        let set = EvaluationSet(data: data(3), repeats: 4, seed: 3)
        let r = EpsilonMSE.evaluate(Zero(), on: set)
        for j in 0..<set.count {
            let e = (0..<4).map { Double(set.eps[j * 4 + $0]) }
            XCTAssertEqual(r.perTriple[j], e.reduce(0) { $0 + $1 * $1 } / 4, accuracy: 1e-6)
        }
        let ranges = TimestepRange.equalSplit(timesteps: 1000, count: 4)
        XCTAssertEqual(r.perImage(in: ranges[2])[1], r.perTriple[1 * 4 + 2], accuracy: 1e-12)
        let meanOfRanges = ranges.map { r.mean(in: $0) }.reduce(0, +) / 4
        XCTAssertEqual(r.overall, meanOfRanges, accuracy: 1e-12)
    }

    /// Batch evaluation of parameter sets in parallel equals one-by-one evaluation.
    func testParallelEvaluationMatchesSerial() throws {
        let c = ModelConfig(channels: 1, height: 2, width: 2, hiddenWidth: 8, blocks: 1, timeEmbedding: 4)
        let sets = (0..<3).map { MLPDenoiser(config: c, seed: UInt64($0)).parameters.array }
        let eval = EvaluationSet(data: data(6), repeats: 4, seed: 0)
        let par = try EpsilonMSE.evaluate(config: c, parameterSets: sets, on: eval, threads: 2)
        for (i, p) in sets.enumerated() {
            XCTAssertEqual(par[i].perTriple, EpsilonMSE.evaluate(MLPDenoiser(config: c, parameters: p), on: eval).perTriple)
        }
    }

    func testPairedDifference() {
        let d = PairedDifference([1, 2, 3, 4], [0, 1, 2, 2])
        XCTAssertEqual(d.mean, 1.25, accuracy: 1e-12)
        XCTAssertEqual(d.standardError, (0.25 / 4).squareRoot(), accuracy: 1e-12)
    }
}

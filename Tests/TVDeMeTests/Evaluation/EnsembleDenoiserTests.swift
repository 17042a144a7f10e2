import XCTest
import TVTrainer
@testable import TVDeMe

final class EnsembleDenoiserTests: XCTestCase {
    func testEachTimestepIsRoutedToItsRangesModel() throws {
        let ranges = try TimestepRange.equalRanges(count: 2, total: 1000)
        let a = TinyModels.model(seed: 1), b = TinyModels.model(seed: 2)
        let ens = try EnsembleDenoiser(members: [a, b], ranges: ranges)
        var (x, _) = TinyModels.inputs(batch: 6)
        let t = [0, 999, 499, 500, 250, 750]
        let out = ens.predictEpsilon(x: x, t: t)
        for (k, tk) in t.enumerated() {
            let row = Array(x[(k * 4)..<(k * 4 + 4)])
            let expected = (tk < 500 ? a : b).predictEpsilon(x: row, t: [tk])
            // Equal up to BLAS blocking: OpenBLAS's AVX-512 kernels round a 1-row and a 3-row
            // product differently in the last bit, so bitwise equality would test the BLAS build.
            for (got, want) in zip(out[(k * 4)..<(k * 4 + 4)], expected) {
                XCTAssertEqual(got, want, accuracy: 1e-6 * max(1, abs(want)), "t=\(tk)")
            }
        }
        x = []
        XCTAssertEqual(ens.predictEpsilon(x: x, t: []), [])
        XCTAssertThrowsError(try EnsembleDenoiser(members: [a], ranges: ranges))
    }

    func testSamplerConformanceFillsTheBatchFromTheTrainersGenerator() throws {
        let s = try DeMeTimestepSampler(range: try TimestepRange.parse("250:500"), total: 1000, globalProbability: 0)
        var t = [Int](repeating: -1, count: 10)
        var rng = TrainerRandom(seed: 1)
        s.sample(into: &t, timesteps: 1000, using: &rng)
        XCTAssertEqual(t.count, 10)
        XCTAssertTrue(t.allSatisfy { (250..<500).contains($0) })
        XCTAssertEqual(t[0] + t[6], 749)
    }
}

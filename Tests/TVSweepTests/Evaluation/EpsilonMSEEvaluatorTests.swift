import XCTest
import TVStorage
import TVTrainer
@testable import TVSweep

/// The built-in evaluator on tiny trainer models: points that coincide with an input model must
/// score exactly what the trainer's own EpsilonMSE gives that model.
final class EpsilonMSEEvaluatorTests: XCTestCase {
    func testPlanePointsScoreLikeTheModelsThemselves() throws {
        guard DatasetLoader.digitsPath() != nil else { throw XCTSkip("fixtures/trainer/digits.npy not found") }
        let dir = TestPaths.scratchDirectory("builtin-eval")
        let config = ModelConfig(hiddenWidth: 16, blocks: 1, timeEmbedding: 8)
        var paths: [String] = []
        var models: [MLPDenoiser] = []
        for seed in [1, 2, 3] as [UInt64] {
            let m = MLPDenoiser(config: config, seed: seed)
            let p = dir.appendingPathComponent("m\(seed).safetensors").path
            try ModelCheckpoint.save(m, to: p)
            paths.append(p); models.append(m)
        }
        let prepared = try LandscapeSweep.prepare(base: paths[0], a: paths[1], b: paths[2], plane: LandscapePlaneOptions())
        let range = TimestepRange(lower: 0, upper: 250)
        for r in [nil, range] {
            let e = try EpsilonMSEEvaluator(family: prepared.family, repeats: 4, range: r)
            for (coords, model) in [([0.0, 0.0], models[0]), ([1.0, 0.0], models[1]), ([0.0, 1.0], models[2])] {
                let direct = EpsilonMSE.evaluate(model, on: e.set)
                let expected = r.map { direct.mean(in: $0) } ?? direct.overall
                XCTAssertEqual(try e.evaluate(SweepPoint(coordinates: coords, index: 0)), expected, accuracy: 1e-5 * expected)
            }
            if r != nil {
                XCTAssertEqual(e.set.repeats, 16)
                XCTAssertTrue(e.summary.hasSuffix("t in [0, 250)"))
            }
        }
        // A midpoint is a different model with a different score.
        let e = try EpsilonMSEEvaluator(family: prepared.family, repeats: 4)
        XCTAssertNotEqual(try e.evaluate(SweepPoint(coordinates: [0.5, 0.5], index: 0)),
                          try e.evaluate(SweepPoint(coordinates: [0, 0], index: 0)))
        XCTAssertThrowsError(try EpsilonMSEEvaluator.parseRange("250:0"))
    }
}

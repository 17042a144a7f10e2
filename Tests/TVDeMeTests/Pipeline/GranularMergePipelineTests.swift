import XCTest
import TVStorage
import TVTrainer
@testable import TVDeMe
import TVSearch

/// `deme --merge-granularity block|routed` on a tiny configuration: the per-block search starts
/// at the per-model optimum (so it cannot end worse on the search set), its records name every
/// axis, the merged file is what the report evaluates, and the routed weights are λ times shares
/// that sum to 1 per group, computed from range gains re-derived here.
final class GranularMergePipelineTests: XCTestCase {
    private func setup() throws -> (MLPDenoiser, DatasetSplit, DeMeOptions) {
        let (model, split) = try DeMePipelineEndToEndTests.tinySetup()
        var o = DeMeOptions()
        o.ranges = 2
        o.stepsPerRange = 30
        o.batchSize = 16
        o.optimizer.learningRate = 1e-3
        o.grid = [try AxisSpec.parse("0,0.5,1")]
        o.refinements = 1
        o.workers = 2
        o.evalTimestepsPerRange = 2
        o.frechetSeeds = []
        o.samplingSteps = 4
        o.gridImages = 4
        o.blockGrid = try AxisSpec.parse("0:1:5")
        o.routedScaleGrid = try AxisSpec.parse("0:2:5")
        return (model, split, o)
    }

    func testBlockAndRoutedMergesStartFromThePerModelResultAndReportAgainstIt() throws {
        let (pretrained, split, options) = try setup()
        let out = TestPaths.scratchDirectory("deme-granular")
        defer { try? FileManager.default.removeItem(at: out) }
        let preFile = out.appendingPathComponent("pretrained.safetensors").path
        try ModelCheckpoint.save(pretrained, to: preFile)
        let run = out.appendingPathComponent("run")
        var o = options
        o.mergeGranularity = .block
        var pipeline = try DeMePipeline(pretrained: pretrained, pretrainedPath: preFile, split: split, output: run, options: o)
        pipeline.log = { _ in }
        let block = try pipeline.run()
        XCTAssertEqual(block.rows.map(\.name), ["pretrained", "plain finetune", "plain finetune, interpolated", "DeMe ensemble",
                                                "DeMe merged, per-model weights", "DeMe merged"])
        XCTAssertEqual(block.verdicts.last?.baseline, "DeMe merged, per-model weights")
        let perModel = block.rows[4], merged = block.rows[5]
        XCTAssertEqual(perModel.weights?.count, 2)
        XCTAssertEqual(merged.weights?.count, 2 * 3, "2 models × groups IN, B0, OUT")
        XCTAssertLessThanOrEqual(try XCTUnwrap(merged.searchSetMSE), try XCTUnwrap(perModel.searchSetMSE) + 1e-12)
        let header = try String(contentsOf: run.appendingPathComponent("search_deme_block.csv"), encoding: .utf8).split(separator: "\n")[0]
        XCTAssertTrue(header.contains("w1_IN,w1_B0,w1_OUT,w2_IN,w2_B0,w2_OUT"), String(header))
        XCTAssertTrue(block.notes.contains { $0.hasPrefix("search set (held-out 1): DeMe merged (block) − per-model weights") }, "\(block.notes)")
        // The written file is the merged row.
        let file = try ModelCheckpoint.load(run.appendingPathComponent("merged.safetensors").path)
        let ranges = try TimestepRange.equalRanges(count: 2, total: 1000)
        let reportSet = EvaluationSet(data: split.heldOut[1], timesteps: 1000, repeats: 4, seed: 0x2E9027)
        XCTAssertEqual(try HeldOutErrors(file, on: reportSet, ranges: ranges, schedule: file.config.makeSchedule()).perImage, merged.perImage)

        // Routed, in the same folder (finetunes and the per-model search reused).
        o.mergeGranularity = .routed
        pipeline = try DeMePipeline(pretrained: pretrained, pretrainedPath: preFile, split: split, output: run, options: o)
        pipeline.log = { _ in }
        let routed = try pipeline.run()
        XCTAssertEqual(routed.rows[4].perImage, perModel.perImage, "same per-model merge")
        let w = try XCTUnwrap(routed.rows[5].weights)
        // Per group the models' weights sum to λ (or 0 when no model gains there).
        let sums = (0..<3).map { g in w[g] + w[3 + g] }
        let lambda = try XCTUnwrap(sums.max())
        XCTAssertTrue(sums.allSatisfy { abs($0 - lambda) < 1e-9 || abs($0) < 1e-12 }, "\(w)")
        // Re-derive one share: model 1's gain on its own range from its IN group alone.
        let searchSet = EvaluationSet(data: split.heldOut[0], timesteps: 1000, repeats: 4, seed: 0x5EA5C4)
        let base = pretrained.expandingWithIdentityProjections()
        let members = try (1...2).map { try ModelCheckpoint.load(run.appendingPathComponent("finetunes/deme_range\($0)_\($0 == 1 ? "0_500" : "500_1000").safetensors").path) }
        let mm = try MergedModels(base: base, finetuned: members, names: ["r1", "r2"], groups: try MergedModels.groups("mlp", of: base))
        func gain(_ i: Int, _ g: Int) throws -> Double {
            var p = [Double](repeating: 0, count: 6); p[i * 3 + g] = 1
            let before = try HeldOutErrors(base, on: searchSet, ranges: ranges, schedule: base.config.makeSchedule()).perImagePerRange[i]
            let after = try HeldOutErrors(try mm.model(weights: p), on: searchSet, ranges: ranges, schedule: base.config.makeSchedule()).perImagePerRange[i]
            return (before.reduce(0, +) - after.reduce(0, +)) / Double(before.count)
        }
        let g0 = max(try gain(0, 0), 0), g1 = max(try gain(1, 0), 0)
        if g0 + g1 > 0, lambda > 0 { XCTAssertEqual(w[0] / lambda, g0 / (g0 + g1), accuracy: 1e-9) }
        XCTAssertTrue(routed.notes.contains { $0.hasPrefix("routed merge: shares per group") }, "\(routed.notes)")
    }
}

import XCTest
import TVStorage
import TVTrainer
@testable import TVDeMe
import TVSearch

/// finetune → merge → search → report on a tiny configuration (seconds), checking the files and
/// that the numbers in the report agree with each other and with the written models.
final class DeMePipelineEndToEndTests: XCTestCase {
    /// A 16-wide MLP pretrained for 150 steps on 240 bundled digits (24 + 24 held out): the
    /// pretrained model of the tiny pipeline tests here and in GranularMergePipelineTests.
    static func tinySetup() throws -> (MLPDenoiser, DatasetSplit) {
        let digits: ImageDataset
        do { digits = try DatasetLoader.digits() } catch { throw XCTSkip("bundled digits not found: \(error)") }
        let data = digits.subset(Array(0..<240), label: "digits[0..<240]")
        let split = try DatasetSplit(data, heldOut: [24, 24], seed: 0)
        let model = MLPDenoiser(config: data.modelConfig(ModelConfig(hiddenWidth: 16, blocks: 1, timeEmbedding: 8)), seed: 0)
        let trainer = DiffusionTrainer(model: model, settings: TrainingSettings(batchSize: 32, optimizer: AdamWSettings(learningRate: 2e-3), ema: nil, seed: 0))
        try trainer.train(on: split.train, until: 150)
        return (model, split)
    }

    private func tinyOptions() throws -> DeMeOptions {
        var o = DeMeOptions()
        o.ranges = 2
        o.stepsPerRange = 30
        o.batchSize = 16
        o.optimizer.learningRate = 1e-3
        o.plainLearningRate = 2e-3
        o.grid = [try AxisSpec.parse("0,0.5,1")]
        o.strategy = .grid
        o.refinements = 1
        o.workers = 2
        o.evalTimestepsPerRange = 2
        o.frechetSamples = 40
        o.frechetSeeds = [1, 2]
        o.samplingSteps = 4
        o.gridImages = 4
        o.ablate = true
        // The per-model merge (the block default is covered by GranularMergePipelineTests).
        o.mergeGranularity = .model
        return o
    }

    func testTinyPipelineWritesAConsistentReportAndReusesFinetunes() throws {
        let (pretrained, split) = try Self.tinySetup()
        let out = TestPaths.scratchDirectory("deme-e2e")
        defer { try? FileManager.default.removeItem(at: out) }
        let preFile = out.appendingPathComponent("pretrained.safetensors").path
        try ModelCheckpoint.save(pretrained, to: preFile)
        var pipeline = try DeMePipeline(pretrained: pretrained, pretrainedPath: preFile, split: split,
                                        output: out.appendingPathComponent("run"), options: try tinyOptions())
        pipeline.log = { _ in }
        let report = try pipeline.run()
        let run = out.appendingPathComponent("run")

        for f in ["report.md", "report.json", "merged.safetensors", "search_deme.csv", "search_deme.jsonl", "search_plain.csv",
                  "search_abl_sampling.csv", "search_abl_consistency.csv", "samples_pretrained.png", "samples_merged.png",
                  "finetunes/deme_range1_0_500.safetensors", "finetunes/deme_range2_500_1000.safetensors", "finetunes/plain_60steps.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent(f).path), f)
        }
        // DeMe's finetunes use --lr, the plain baseline its own --plain-lr (recorded in each file).
        func recordedLR(_ f: String) throws -> Double? {
            let json = try Checkpoints.open(run.appendingPathComponent("finetunes/" + f).path).metadata["tvtool.deme_finetune"] ?? ""
            let o = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            return ((o?["optimizer"] as? [String: Any])?["learningRate"] as? NSNumber)?.doubleValue
        }
        XCTAssertEqual(try recordedLR("deme_range1_0_500.safetensors") ?? 0, 1e-3, accuracy: 1e-9)
        XCTAssertEqual(try recordedLR("plain_60steps.safetensors") ?? 0, 2e-3, accuracy: 1e-9)
        XCTAssertEqual(report.rows.map(\.name), ["pretrained", "plain finetune", "plain finetune, interpolated", "DeMe ensemble", "DeMe merged"])
        XCTAssertEqual(report.ablation.count, 4)
        XCTAssertEqual(report.verdicts.count, 4)

        // Row numbers agree with their per-image values and with the pretrained row.
        let pre = report.rows[0]
        for r in report.rows + report.ablation {
            XCTAssertEqual(r.perImage.count, 24)
            XCTAssertEqual(r.heldOutMSE, r.perImage.reduce(0, +) / 24, accuracy: 1e-12)
            // Equal-width ranges with the same number of items each: overall = mean of the per-range means.
            XCTAssertEqual(r.heldOutMSE, r.perRangeMSE.reduce(0, +) / 2, accuracy: 1e-9)
            XCTAssertEqual(r.frechet?.values.count, 2)
            if r.name != "pretrained" {
                XCTAssertEqual(r.versusPretrained!.meanDifference, r.heldOutMSE - pre.heldOutMSE, accuracy: 1e-12)
            }
        }

        // The merged row's weights are the search's best point, and the CSV holds every point.
        // Columns as in `tvtool search`'s results.csv: id, round, index, w1, w2, status, value, …
        let lines = try Self.numericRows(run.appendingPathComponent("search_deme.csv"), columns: ["round", "w1", "w2", "value"])
        XCTAssertEqual(lines.count, 9 + lines.filter { $0[0] == 1 }.count)
        let best = lines.min { $0[3] < $1[3] }!
        XCTAssertEqual(report.rows[4].weights, Array(best[1...2]))
        XCTAssertTrue(lines.allSatisfy { $0[1] >= 0 && $0[1] <= 1 && $0[2] >= 0 && $0[2] <= 1 }, "refinement left the grid's bounds")

        // Search-set errors (for tuning): the merged and interpolated rows score what their searches
        // found; pretrained and plain finetune are the interpolation's w = 0 and w = 1 points.
        let plainPoints = try Self.numericRows(run.appendingPathComponent("search_plain.csv"), columns: ["round", "w", "value"])
        XCTAssertEqual(try XCTUnwrap(report.rows[4].searchSetMSE), best[3], accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(report.rows[2].searchSetMSE), plainPoints.map { $0[2] }.min()!, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(report.rows[0].searchSetMSE), plainPoints.first { $0[1] == 0 }![2], accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(report.rows[1].searchSetMSE), plainPoints.first { $0[1] == 1 }![2], accuracy: 1e-6)
        XCTAssertNotEqual(report.rows[4].searchSetMSE, report.rows[4].heldOutMSE)

        // The written merged model is the merged row: re-evaluating it gives the same per-image errors.
        let merged = try ModelCheckpoint.load(run.appendingPathComponent("merged.safetensors").path)
        let ranges = try TimestepRange.equalRanges(count: 2, total: 1000)
        let reportSet = EvaluationSet(data: split.heldOut[1], timesteps: 1000, repeats: 4, seed: 0x2E9027)
        let again = try HeldOutErrors(merged, on: reportSet, ranges: ranges, schedule: merged.config.makeSchedule())
        XCTAssertEqual(again.perImage, report.rows[4].perImage)
        XCTAssertTrue(merged.config.projections)

        // report.json decodes to the same report; report.md states the verdicts.
        // Its keys are snake_case like every tvtool JSON output (JSONDecoder: exact doubles).
        struct FileRow: Decodable { let held_out_mse: Double; let search_set_mse: Double? }
        struct FileReport: Decodable { let rows: [FileRow]; let searched_points: Int }
        let file = try JSONDecoder().decode(FileReport.self, from: Data(contentsOf: run.appendingPathComponent("report.json")))
        XCTAssertEqual(file.rows.map(\.held_out_mse), report.rows.map(\.heldOutMSE))
        XCTAssertEqual(file.rows.map(\.search_set_mse), report.rows.map(\.searchSetMSE))
        XCTAssertEqual(file.searched_points, report.searchedPoints)
        let md = try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("DeMe merged") && md.contains("2 SE"))

        // A rerun reuses every finetune and reproduces the report.
        let second = try pipeline.run()
        XCTAssertTrue(second.notes.contains { $0.contains("7 finetune(s) reused") }, "\(second.notes)")
        XCTAssertEqual(second.rows.map(\.perImage), report.rows.map(\.perImage))
    }

    func testFrechetObjectiveScoresCandidatesByTheirSamples() throws {
        let (pretrained, split) = try Self.tinySetup()
        let out = TestPaths.scratchDirectory("deme-e2e-fd")
        defer { try? FileManager.default.removeItem(at: out) }
        let preFile = out.appendingPathComponent("pretrained.safetensors").path
        try ModelCheckpoint.save(pretrained, to: preFile)
        var o = try tinyOptions()
        o.ablate = false
        o.refinements = 0
        o.projections = false
        o.objective = .frechet
        o.frechetSeeds = [5]
        var pipeline = try DeMePipeline(pretrained: pretrained, pretrainedPath: preFile, split: split,
                                        output: out.appendingPathComponent("run"), options: o)
        pipeline.log = { _ in }
        let report = try pipeline.run()
        XCTAssertTrue(report.searchObjective.contains("Fréchet"))
        // The all-zero candidate is the pretrained model: its logged objective is the pretrained
        // model's Fréchet distance to the search images on the same seed.
        let rows = try Self.numericRows(out.appendingPathComponent("run/search_deme.csv"), columns: ["round", "w1", "w2", "value"])
        let zero = try XCTUnwrap(rows.first { $0[1] == 0 && $0[2] == 0 })
        let sampler = SampleMetrics(steps: o.samplingSteps, schedule: pretrained.config.makeSchedule())
        let fd = try sampler.frechet(pretrained, reference: split.heldOut[0], samples: o.frechetSamples, seed: 5)
        XCTAssertEqual(zero[3], fd, accuracy: 1e-9)
    }

    /// The named columns of a results CSV as numbers (the id column is quoted: it holds commas).
    static func numericRows(_ url: URL, columns: [String]) throws -> [[Double]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var table: [[String]] = []
        for line in text.split(separator: "\n") {
            var fields: [String] = [], field = "", quoted = false
            for ch in line {
                if ch == "\"" { quoted.toggle() } else if ch == "," && !quoted { fields.append(field); field = "" } else { field.append(ch) }
            }
            fields.append(field)
            table.append(fields)
        }
        let header = try XCTUnwrap(table.first)
        let idx = try columns.map { c in try XCTUnwrap(header.firstIndex(of: c), "no column \(c) in \(header)") }
        return table.dropFirst().map { row in idx.map { Double(row[$0]) ?? .nan } }
    }
}

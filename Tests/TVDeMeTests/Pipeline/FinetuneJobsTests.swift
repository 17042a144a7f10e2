import CKernels
import XCTest
import TVTrainer
@testable import TVDeMe

/// Finetune jobs of unequal length on two workers: the worker left without a job lends its
/// thread to the one still running (its products split with it), and every model keeps the bits
/// it gets on one worker.
final class FinetuneJobsTests: XCTestCase {
    func testTwoWorkersWithLendingGiveTheOneWorkerModels() throws {
        let digits: ImageDataset
        do { digits = try DatasetLoader.digits() } catch { throw XCTSkip("bundled digits not found: \(error)") }
        let data = digits.subset(Array(0..<200))
        // Width 64, batch 64: products large enough to be split with a lent thread.
        let pretrained = MLPDenoiser(config: data.modelConfig(ModelConfig(hiddenWidth: 64, blocks: 1, timeEmbedding: 8)), seed: 0)
        let range = try XCTUnwrap(TimestepRange.equalRanges(count: 2, total: 1000).first)
        let jobs = [(40, true), (8, false), (8, true)].enumerated().map { i, s in
            FinetuneJobs.Job(name: "job\(i)", options: FinetuneOptions(range: range, steps: s.0, projections: s.1, batchSize: 64, seed: UInt64(i)))
        }
        func run(workers: Int) throws -> [[UInt32]] {
            let dir = TestPaths.scratchDirectory("finetune-jobs")
            defer { try? FileManager.default.removeItem(at: dir) }
            let store = try FinetuneStore(directory: dir, pretrained: pretrained, pretrainedPath: "tiny")
            let (models, reused) = try FinetuneJobs(store: store, workers: workers).run(jobs, pretrained: pretrained, train: data, log: { _ in })
            XCTAssertEqual(reused, 0)
            return models.map { $0.parameters.array.map(\.bitPattern) }
        }
        // One worker on one thread (with more, a lone job splits its batches: other bits).
        let one = try BLASThreads.singleThreaded { try run(workers: 1) }
        let before = tv_lent_tasks_run()
        // The 40-step job runs alone after the short ones; a loaded machine may not run the
        // lent thread in time (the job then takes its parts back), so try a few times.
        for attempt in 0..<5 where attempt == 0 || tv_lent_tasks_run() == before {
            XCTAssertEqual(try run(workers: 2), one)
        }
        if tv_mlp_gemm_available() != 0 {
            XCTAssertGreaterThan(tv_lent_tasks_run() - before, 0, "no product was shared with the lent thread")
        }
    }
}

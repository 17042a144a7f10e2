import Foundation
import TVStorage
import TVTrainer

/// Runs several finetunes of one pretrained model, `workers` at a time (each finetune on its own
/// thread with single-threaded BLAS: for these small matrices that beats one finetune on many
/// threads). Results keep the order of the jobs; each job is reproducible on its own seed, so the
/// worker count does not change any result. A worker with no job left to start lends its thread to
/// the jobs still running (`ThreadLending`: same bits), so the last job runs on both cores.
public struct FinetuneJobs {
    public struct Job: Sendable {
        public var name: String
        public var options: FinetuneOptions
        public init(name: String, options: FinetuneOptions) {
            self.name = name
            self.options = options
        }
    }

    public let store: FinetuneStore
    public let workers: Int

    public init(store: FinetuneStore, workers: Int) {
        self.store = store
        self.workers = max(1, workers)
    }

    /// The finetuned models and how many were reused from earlier runs.
    public func run(_ jobs: [Job], pretrained: any TrainableDenoiser, train: ImageDataset,
                    log: @escaping @Sendable (String) -> Void) throws -> (models: [any TrainableDenoiser], reused: Int) {
        let lending = ThreadLending()
        let slots = Slots(count: jobs.count, whenAllFinished: lending.stop)
        let shared = Shared(pretrained: pretrained)
        let n = min(workers, jobs.count)
        let store = self.store
        // Dynamic scheduling: each worker takes the next unstarted job, so a long job on one
        // worker overlaps several short ones on the other; then lends itself until all are done.
        BLASThreads.singleThreaded(if: n > 1) {
            DispatchQueue.concurrentPerform(iterations: n) { _ in
                while let i = slots.next() {
                    do {
                        let (m, reused) = try store.model(named: jobs[i].name, options: jobs[i].options, pretrained: shared.pretrained,
                                                          train: train, showProgress: n == 1, log: log)
                        slots.set(i, .success((m, reused)))
                    } catch {
                        slots.set(i, .failure(error))
                    }
                }
                if n > 1 && ThreadLending.useful { lending.lend() }
            }
        }
        var models: [any TrainableDenoiser] = []
        var reused = 0
        for r in try slots.results() {
            models.append(r.0)
            if r.1 { reused += 1 }
        }
        return (models, reused)
    }

    /// The pretrained model is only read (copied) by the jobs.
    private final class Shared: @unchecked Sendable {
        let pretrained: any TrainableDenoiser
        init(pretrained: any TrainableDenoiser) { self.pretrained = pretrained }
    }

    private final class Slots: @unchecked Sendable {
        private var slots: [Result<(any TrainableDenoiser, Bool), any Error>?]
        private let lock = NSLock()
        private var failed = false
        private var taken = 0
        private var running = 0
        private var finished = false
        private let whenAllFinished: () -> Void
        init(count: Int, whenAllFinished: @escaping () -> Void) {
            slots = Array(repeating: nil, count: count)
            self.whenAllFinished = whenAllFinished
        }
        /// The next job to start; nil when none is left (or one failed: the rest are skipped).
        func next() -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard taken < slots.count, !failed else {
                finishIfIdle()
                return nil
            }
            taken += 1
            running += 1
            return taken - 1
        }
        func set(_ i: Int, _ r: Result<(any TrainableDenoiser, Bool), any Error>) {
            lock.lock(); defer { lock.unlock() }
            slots[i] = r
            running -= 1
            if case .failure = r { failed = true }
            if taken == slots.count || failed { finishIfIdle() }
        }
        /// Nothing left to start (the caller checked): once nothing runs either, say so once.
        private func finishIfIdle() {
            guard running == 0, !finished else { return }
            finished = true
            whenAllFinished()
        }
        func results() throws -> [(any TrainableDenoiser, Bool)] {
            try slots.map { s in
                switch s {
                case .success(let v)?: return v
                case .failure(let e)?: throw e
                case nil: throw DeMeError.evaluationFailed("a finetune was skipped after another one failed")
                }
            }
        }
    }
}

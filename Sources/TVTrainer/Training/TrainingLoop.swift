import Foundation

extension DiffusionTrainer {
    /// Draws a batch of `settings.batchSize` training images uniformly with replacement (stateless
    /// apart from the generator, so `--resume` continues the exact sequence). With horizontal
    /// flips on, one more draw per image (after the indices) decides its flip; with them off no
    /// draw is made, so such runs repeat the runs made before the option.
    public func nextBatch(from data: ImageDataset) -> [Float] {
        var idx = [Int](repeating: 0, count: settings.batchSize)
        for i in idx.indices { idx[i] = rng.int(in: 0..<data.count) }
        var batch = data.batch(idx)
        if settings.horizontalFlip == true {
            let w = data.width, rows = data.channels * data.height
            for i in idx.indices where rng.uniform() < 0.5 {
                for r in 0..<rows {
                    let base = (i * rows + r) * w
                    batch[base..<(base + w)].reverse()
                }
            }
        }
        return batch
    }

    /// Runs optimiser steps until `optimizer.step == totalSteps`, calling `onStep` after each
    /// (for progress lines and periodic checkpoints; return false to stop early).
    public func train(on data: ImageDataset, until totalSteps: Int, onStep: (StepStats) throws -> Bool) rethrows {
        precondition(data.dimension == model.dataDimension, "data and model differ in sample size")
        while optimizer.step < totalSteps {
            let stats = step(x0: nextBatch(from: data))
            if try !onStep(stats) { break }
        }
    }

    /// Runs optimiser steps until `optimizer.step == totalSteps`.
    public func train(on data: ImageDataset, until totalSteps: Int) {
        train(on: data, until: totalSteps) { _ in true }
    }
}

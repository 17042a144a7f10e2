import TVStorage
import TVTrainer

/// How `eval` and `sample` run a loaded model on `--threads`: with 2 or more threads it is
/// evaluated in two data-parallel halves (`DataParallelDenoiser`, both cores busy). The MLP only
/// where its products run in the tiled kernel (single-threaded, rows independent of the split,
/// so its results stay as they were); elsewhere it keeps OpenBLAS's own threads.
enum ModelThreads {
    static func denoiser(_ model: any TrainableDenoiser, threads: Int) -> any Denoiser {
        let split = model.config.architecture == UNet2DModel.architecture || MatrixProduct.tiled
        return threads > 1 && split ? DataParallelDenoiser(model) : model
    }
}

/// A progress line per stage ("eps-mse 512/2400 triples"), for the long evaluations of a UNet.
final class StageProgress {
    private var current: (String, ProgressReporter)?
    private let enabled: Bool
    init(enabled: Bool) { self.enabled = enabled }

    func update(_ stage: String, _ done: Int, _ total: Int) {
        if current?.0 != stage {
            current?.1.finish()
            current = (stage, ProgressReporter(label: stage, totalUnits: total, unitName: stage == "samples" ? "samples" : "triples", enabled: enabled))
            current?.1.advance(units: done)
        } else {
            current?.1.advance(units: done - previous)
        }
        previous = done
    }

    private var previous = 0

    func finish() { current?.1.finish() }
}

/// A denoiser that reports every call's row count (sampling progress per model call, not per
/// finished batch: a UNet batch over 1000 DDPM steps takes minutes).
final class CountingDenoiser: Denoiser {
    let inner: any Denoiser
    let onCall: (Int) -> Void
    init(_ inner: any Denoiser, onCall: @escaping (Int) -> Void) { self.inner = inner; self.onCall = onCall }
    var dataDimension: Int { inner.dataDimension }
    var evaluationBatchSize: Int { inner.evaluationBatchSize }
    func predictEpsilon(x: [Float], t: [Int]) -> [Float] {
        defer { onCall(t.count) }
        return inner.predictEpsilon(x: x, t: t)
    }
}

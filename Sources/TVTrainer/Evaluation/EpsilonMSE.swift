import Foundation

/// Held-out epsilon-MSE: the denoiser's error predicting the noise on a fixed `EvaluationSet`.
public enum EpsilonMSE {
    /// `batchSize` nil: the denoiser's `evaluationBatchSize` (512 for the MLP).
    public static func evaluate(_ denoiser: any Denoiser, on set: EvaluationSet, batchSize: Int? = nil) -> EpsilonMSEResult {
        precondition(denoiser.dataDimension == set.dimension, "denoiser and evaluation set differ in data size")
        let schedule = NoiseSchedule(timesteps: set.timesteps)
        return evaluate(denoiser, on: set, schedule: schedule, batchSize: batchSize)
    }

    /// `progress` is called with the number of triples done after each batch.
    public static func evaluate(_ denoiser: any Denoiser, on set: EvaluationSet, schedule: NoiseSchedule,
                                batchSize: Int? = nil, progress: ((Int) -> Void)? = nil) -> EpsilonMSEResult {
        let batchSize = max(1, batchSize ?? denoiser.evaluationBatchSize)
        let D = set.dimension
        var per = [Double](repeating: 0, count: set.count)
        var start = 0
        while start < set.count {
            let end = min(start + batchSize, set.count)
            let ts = Array(set.t[start..<end])
            var xt = [Float](repeating: 0, count: ts.count * D)
            set.x0.withUnsafeBufferPointer { xp in
                set.eps.withUnsafeBufferPointer { ep in
                    xt.withUnsafeMutableBufferPointer { out in
                        schedule.noise(x0: UnsafeBufferPointer(rebasing: xp[(start * D)..<(end * D)]),
                                       eps: UnsafeBufferPointer(rebasing: ep[(start * D)..<(end * D)]), t: ts, into: out)
                    }
                }
            }
            let pred = denoiser.predictEpsilon(x: xt, t: ts)
            for r in 0..<ts.count {
                var s = 0.0
                for j in 0..<D { let e = Double(pred[r * D + j] - set.eps[(start + r) * D + j]); s += e * e }
                per[start + r] = s / Double(D)
            }
            progress?(end - start)
            start = end
        }
        return EpsilonMSEResult(set: set, perTriple: per)
    }

    /// Evaluates many parameter vectors of one config (e.g. merged candidates of a weight search)
    /// in memory, `threads` at a time, each thread with its own model. BLAS is set to one thread
    /// while this runs, so the parallelism is over candidates.
    public static func evaluate(config: ModelConfig, parameterSets: [[Float]], on set: EvaluationSet,
                                threads: Int = 2) throws(TrainerError) -> [EpsilonMSEResult] {
        // Metatypes are immutable; Swift 6.0 just does not mark existential ones Sendable.
        nonisolated(unsafe) let type = try DenoiserArchitectures.type(for: config, source: "config")
        let results = ResultSlots<EpsilonMSEResult>(count: parameterSets.count)
        let workers = max(1, min(threads, parameterSets.count))
        BLASThreads.singleThreaded(if: threads > 1) {
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var i = w
                while i < parameterSets.count {
                    let model = type.init(config: config, parameters: parameterSets[i])
                    results.set(i, evaluate(model, on: set))
                    i += workers
                }
            }
        }
        return results.values
    }
}

/// Thread-safe write-once slots for results computed in parallel.
final class ResultSlots<T>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.lock(); slots[i] = v; lock.unlock() }
    var values: [T] { slots.map { $0! } }
}

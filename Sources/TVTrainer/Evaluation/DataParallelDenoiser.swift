import Foundation

extension UNet2DModel {
    /// Evaluation batches keep the forward activations under about 512 MB: a rough count of the
    /// floats one sample keeps per level (resnets, norms, attention scores), from the config alone
    /// so the batch (and with it the results) does not depend on the machine. Tiny configs get
    /// 512, google/ddpm-cifar10-32 about a dozen.
    public var evaluationBatchSize: Int { UNet2DModel.evaluationBatchSize(for: unetConfig) }

    public static func evaluationBatchSize(for u: UNetConfig) -> Int {
        var floats = 0
        for (level, channels) in u.blockOutChannels.enumerated() {
            let side = max(1, u.sampleSize >> level), pixels = side * side
            floats += (2 * u.layersPerBlock + 1) * channels * pixels * 10
            let attention = u.downBlockTypes[level] == .attnDown || u.upBlockTypes[u.blockOutChannels.count - 1 - level] == .attnUp
            if attention { floats += 2 * (channels / u.headDim(channels)) * pixels * pixels }
        }
        return max(1, min(512, (128 << 20) / max(floats, 1)))
    }
}

/// A trainable denoiser evaluated on two cores: each `predictEpsilon` batch is split into two
/// fixed halves, run concurrently through the model and a replica sharing its parameters, with
/// OpenBLAS single-threaded meanwhile (as the trainer's data-parallel step). Outputs equal the
/// model's own up to the GEMM row count, and do not depend on scheduling.
public final class DataParallelDenoiser: Denoiser, @unchecked Sendable {
    public let model: any TrainableDenoiser
    private let replica: any TrainableDenoiser

    public init(_ model: any TrainableDenoiser) {
        self.model = model
        replica = model.replicaSharingParameters()
    }

    /// For a model evaluated as it is now (a report row): an MLP's halves run on a copy whose time
    /// conditioning is looked up per timestep (`frozenCopy`, same bits); other models as they are.
    public convenience init(frozen model: any TrainableDenoiser) {
        self.init((model as? MLPDenoiser)?.frozenCopy() as? any TrainableDenoiser ?? model)
    }

    public var dataDimension: Int { model.dataDimension }
    public var evaluationBatchSize: Int { 2 * model.evaluationBatchSize }

    public func predictEpsilon(x: [Float], t: [Int]) -> [Float] {
        guard t.count >= 2 else { return model.predictEpsilon(x: x, t: t) }
        let half = t.count / 2, D = model.dataDimension
        let first = Array(x[..<(half * D)]), second = Array(x[(half * D)...])
        let t1 = Array(t[..<half]), t2 = Array(t[half...])
        let slots = ResultSlots<[Float]>(count: 2)
        let (m, r) = (model, replica)
        nonisolated(unsafe) let pair = (m, r)
        BLASThreads.singleThreaded {
            DispatchQueue.concurrentPerform(iterations: 2) { k in
                if k == 0 { slots.set(0, pair.0.predictEpsilon(x: first, t: t1)) } else { slots.set(1, pair.1.predictEpsilon(x: second, t: t2)) }
            }
        }
        return slots.values[0] + slots.values[1]
    }
}

@testable import TVTrainer

/// Small configurations and deterministic inputs shared by the model tests.
enum TestModels {
    static func tiny(projections: Bool = false) -> ModelConfig {
        ModelConfig(channels: 1, height: 3, width: 3, hiddenWidth: 6, blocks: 2, timeEmbedding: 4, projections: projections)
    }

    /// A batch of inputs: x0 in [-1, 1], eps ~ N(0, 1), spread timesteps.
    static func batch(_ c: ModelConfig, size: Int, seed: UInt64) -> (x0: [Float], t: [Int], eps: [Float]) {
        var rng = TrainerRandom(seed: seed)
        let x0 = (0..<(size * c.dataDimension)).map { _ in 2 * rng.uniform() - 1 }
        let t = (0..<size).map { _ in rng.int(in: 0..<c.timesteps) }
        return (x0, t, rng.normals(size * c.dataDimension))
    }

    /// LayerNorm weights and biases away from 1 and 0 (so the affine terms are exercised).
    static func perturbNorms(_ m: MLPDenoiser, seed: UInt64) {
        var rng = TrainerRandom(seed: seed)
        for e in m.layout.entries where e.name.contains(".norm.") {
            for j in 0..<e.count { m.parameters[e.offset + j] += 0.3 * (2 * rng.uniform() - 1) }
        }
    }

    /// Non-identity projections (so their gradients and the blocks behind them are exercised).
    static func perturbProjections(_ m: MLPDenoiser, seed: UInt64) {
        var rng = TrainerRandom(seed: seed)
        for e in m.layout.entries where e.name.hasSuffix(".proj.weight") {
            for j in 0..<e.count { m.parameters[e.offset + j] += 0.2 * (2 * rng.uniform() - 1) }
        }
    }
}

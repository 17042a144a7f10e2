import TVTrainer
@testable import TVDeMe

/// Small models and data for fast tests.
enum TinyModels {
    static func config(projections: Bool = false, dimension: Int = 4, width: Int = 8, blocks: Int = 2) -> ModelConfig {
        ModelConfig(channels: 1, height: 1, width: dimension, hiddenWidth: width, blocks: blocks, timeEmbedding: 8,
                    projections: projections, timesteps: 1000)
    }

    static func model(seed: UInt64 = 1, projections: Bool = false) -> MLPDenoiser {
        MLPDenoiser(config: config(projections: projections), seed: seed)
    }

    /// A copy with every parameter moved by a seeded random amount (a stand-in "finetuned" model
    /// for identities that hold for any weights).
    static func perturbed(_ m: MLPDenoiser, seed: UInt64, scale: Float = 0.05) -> MLPDenoiser {
        var rng = TrainerRandom(seed: seed)
        let v = m.parameters.array.map { $0 + scale * rng.normal() }
        return MLPDenoiser(config: m.config, parameters: v)
    }

    static func inputs(batch: Int, dimension: Int = 4, seed: UInt64 = 9) -> (x: [Float], t: [Int]) {
        var rng = TrainerRandom(seed: seed)
        return (rng.normals(batch * dimension), (0..<batch).map { _ in rng.int(in: 0..<1000) })
    }
}

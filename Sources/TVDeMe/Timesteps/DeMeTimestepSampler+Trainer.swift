import TVTrainer

/// Plugs DeMe's sampler into the trainer: one call per optimiser step, drawing from the trainer's
/// own generator (so a finetune is reproducible for a seed).
extension DeMeTimestepSampler: TimestepSampler {
    public func sample(into timesteps: inout [Int], timesteps T: Int, using rng: inout TrainerRandom) {
        let n = timesteps.count
        timesteps = sample(batch: n, using: &rng).timesteps
    }
}

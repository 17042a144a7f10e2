extension TrainableDenoiser {
    /// A copy for forward passes only, whose parameters stay as they are now (e.g. the frozen
    /// teacher of a consistency loss): the MLP's looks its time conditioning up per timestep
    /// (`MLPDenoiser.freezeTimeConditioning`, same outputs); other architectures are plain copies.
    public func frozenCopy() -> any Denoiser {
        let c = copy()
        (c as? MLPDenoiser)?.freezeTimeConditioning()
        return c
    }
}

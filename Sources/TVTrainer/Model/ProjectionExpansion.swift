extension MLPDenoiser {
    /// The same function with DeMe's channel-wise projections inserted as identities: outputs are
    /// unchanged, and the parameter layout gains one `blocks.i.proj.weight` = I per block. A model
    /// that already has projections is returned as a copy.
    public func expandingWithIdentityProjections() -> MLPDenoiser {
        if config.projections { return copy() }
        var c = config
        c.projections = true
        let newLayout = MLPDenoiser.layout(for: c)
        var values = [Float](repeating: 0, count: newLayout.count)
        for e in newLayout.entries {
            if let old = layout.entry(e.name) {
                for j in 0..<e.count { values[e.offset + j] = parameters[old.offset + j] }
            } else {
                let d = e.shape[0]
                for i in 0..<d { values[e.offset + i * d + i] = 1 }
            }
        }
        return MLPDenoiser(config: c, parameters: values)
    }
}

extension MLPDenoiser {
    /// The same function with DeMe's channel-wise projections inserted as identities: outputs are
    /// unchanged, and the parameter layout gains one `blocks.i.proj.weight` = I per block. A model
    /// that already has projections is returned as a copy.
    public func expandingWithIdentityProjections() -> MLPDenoiser {
        if config.projections { return copy() }
        var c = config
        c.projections = true
        return MLPDenoiser(config: c, parameters: layout.identityExpanded(parameters, into: MLPDenoiser.layout(for: c)))
    }
}

extension ParameterLayout {
    /// `values` (in this layout) placed in `expanded`, a layout with projections added: entries
    /// both have are copied, each new entry is a square projection set to the identity ([C, C] or
    /// [C, C, 1, 1]: the diagonal of its first C×C values). Used by every architecture's
    /// `expandingWithIdentityProjections`.
    public func identityExpanded(_ values: FloatBuffer, into expanded: ParameterLayout) -> [Float] {
        var out = [Float](repeating: 0, count: expanded.count)
        for e in expanded.entries {
            if let old = entry(e.name) {
                for j in 0..<e.count { out[e.offset + j] = values[old.offset + j] }
            } else {
                let c = e.shape[0]
                for i in 0..<c { out[e.offset + i * c + i] = 1 }
            }
        }
        return out
    }
}

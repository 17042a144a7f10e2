import TVEngine

/// Per-block weights as sweep coordinates: one weight per model and layer group (model-major:
/// w1_IN, w1_B0, …, w2_IN, …), each tensor taking its group's weights. `search --per-block`.
public struct PerBlockMapping: PointMapping {
    public let groups: BlockGroups
    public let modelCount: Int

    public init(groups: BlockGroups, modelCount: Int) {
        self.groups = groups
        self.modelCount = modelCount
    }

    public var dimensions: Int { groups.count * modelCount }

    /// A tensor in no group keeps the base (zero weights); `BlockGroups.make` puts every tensor
    /// of the checkpoint in a group, so this only covers names the groups were not made for.
    public func combination(at coordinates: [Double]) -> ModelCombination {
        ModelCombination(taskWeights: Array(repeating: 0, count: modelCount))
    }

    public func combination(at coordinates: [Double], tensor name: String) -> ModelCombination {
        guard let w = groups.weights(tensor: name, coordinates: coordinates, modelCount: modelCount) else {
            return combination(at: coordinates)
        }
        return ModelCombination(taskWeights: w)
    }
}

/// Where a sweep point sits in weight space:
/// theta = base + sum_i taskWeights[i] * tau_i + sum_k randomCoefficients[k] * d_k,
/// with tau_i = model_i - base and d_k the seeded filter-normalised random directions, which are
/// normalised against the "centre" base + sum_i centerWeights[i] * tau_i.
public struct ModelCombination: Sendable, Hashable {
    public var taskWeights: [Double]
    public var randomCoefficients: [Double]
    public var centerWeights: [Double]

    public init(taskWeights: [Double], randomCoefficients: [Double] = [], centerWeights: [Double]? = nil) {
        self.taskWeights = taskWeights
        self.randomCoefficients = randomCoefficients
        self.centerWeights = centerWeights ?? Array(repeating: 0, count: taskWeights.count)
    }
}

/// Maps a sweep point's coordinates to a model. Landscape bases and weight searches are mappings.
public protocol PointMapping: Sendable {
    func combination(at coordinates: [Double]) -> ModelCombination
    /// The combination for one tensor (per-block weights differ by tensor; the default is the
    /// same combination for every tensor).
    func combination(at coordinates: [Double], tensor name: String) -> ModelCombination
}

extension PointMapping {
    public func combination(at coordinates: [Double], tensor name: String) -> ModelCombination {
        combination(at: coordinates)
    }
}

/// Coordinates are the task-vector weights themselves (search; the landscape's raw basis).
public struct TaskWeightMapping: PointMapping {
    public init() {}
    public func combination(at coordinates: [Double]) -> ModelCombination {
        ModelCombination(taskWeights: coordinates)
    }
}

/// What a checkpoint says about one tensor, without its data.
public struct TensorInfo: Sendable, Hashable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]

    public init(name: String, dtype: DType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    /// Number of elements (1 for a scalar). Shapes are validated by readers, so this cannot overflow
    /// for an info that came from a reader; callers building infos by hand must pass sane shapes.
    public var elementCount: Int { Shape.elementCount(shape) ?? 0 }

    /// Number of bytes the data occupies.
    public var byteCount: Int { dtype.byteCount(elements: elementCount) ?? 0 }
}

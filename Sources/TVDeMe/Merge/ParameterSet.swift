import TVStorage

/// A model's floating-point parameters held in memory as F32 arrays, in a fixed name order.
/// The weight search merges candidates into such sets directly, so no file is written per candidate.
public struct ParameterSet: Sendable, Equatable {
    public private(set) var names: [String]
    public private(set) var shapes: [[Int]]
    public var values: [[Float]]

    public init(names: [String], shapes: [[Int]], values: [[Float]]) throws(DeMeError) {
        guard names.count == shapes.count, names.count == values.count, Set(names).count == names.count else {
            throw .invalidArgument("parameter set: names, shapes and values must match one to one, names distinct")
        }
        for (i, v) in values.enumerated() where (Shape.elementCount(shapes[i]) ?? -1) != v.count {
            throw .invalidArgument("parameter '\(names[i])': \(v.count) values do not fill shape \(Shape.describe(shapes[i]))")
        }
        self.names = names
        self.shapes = shapes
        self.values = values
    }

    /// A whole model as one flat vector (for models whose layout is fixed by their config).
    public init(flat values: [Float]) {
        names = ["parameters"]
        shapes = [[values.count]]
        self.values = [values]
    }

    /// Reads every tensor with an arithmetic dtype (integer tensors are not parameters and are skipped).
    public init(reading reader: any CheckpointReader) throws {
        var n: [String] = [], s: [[Int]] = [], v: [[Float]] = []
        for info in reader.tensors where info.dtype.supportsArithmetic {
            n.append(info.name)
            s.append(info.shape)
            v.append(try reader.tensor(named: info.name).floats())
        }
        try self.init(names: n, shapes: s, values: v)
    }

    public var count: Int { names.count }
    public var elementCount: Int { values.reduce(0) { $0 + $1.count } }
    public func index(of name: String) -> Int? { names.firstIndex(of: name) }

    /// Checks that `other` has the same names in the same order and the same shapes.
    public func requireSameLayout(as other: ParameterSet, path: String) throws(DeMeError) {
        guard names == other.names else {
            let missing = Set(names).symmetricDifference(other.names).sorted().prefix(3)
            throw .mismatchedModels(path: path, reason: "parameter names differ from the base (e.g. \(missing.joined(separator: ", ")))")
        }
        for i in 0..<count where shapes[i] != other.shapes[i] {
            throw .mismatchedModels(path: path, reason: "tensor '\(names[i])' has shape \(Shape.describe(other.shapes[i])), base has \(Shape.describe(shapes[i]))")
        }
    }

    /// Tensors in safetensors form (F32), in name order.
    public func tensors() throws -> [(name: String, tensor: Tensor)] {
        try (0..<count).map { (names[$0], try Tensor.fromFloats(values[$0], shape: shapes[$0])) }
    }
}

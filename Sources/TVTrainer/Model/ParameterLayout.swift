/// Where each named parameter tensor lives in a model's flat parameter vector.
///
/// Every model keeps all parameters in ONE contiguous Float array (in layout order), so the
/// optimizer, EMA, gradient clipping and task-vector arithmetic are single loops over flat memory.
/// Names and shapes follow PyTorch (`nn.Linear.weight` is [out, in]).
public struct ParameterLayout: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public private(set) var entries: [Entry] = []
    public private(set) var count = 0

    public init() {}

    /// Appends a tensor and returns its offset.
    @discardableResult
    public mutating func add(_ name: String, _ shape: [Int]) -> Int {
        let e = Entry(name: name, shape: shape, offset: count)
        entries.append(e)
        count += e.count
        return e.offset
    }

    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    public func offset(_ name: String) -> Int {
        guard let e = entry(name) else { preconditionFailure("no parameter \(name)") }
        return e.offset
    }
}

/// A heap buffer of Floats with a stable address (the layers take raw pointers; arrays would
/// need nested `withUnsafe…` scopes). Zero-initialised. Not thread-safe: one owner at a time.
public final class FloatBuffer {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var array: [Float] { Array(buffer) }

    public func assign(_ values: [Float]) {
        precondition(values.count == count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    public func assign(_ other: FloatBuffer) {
        precondition(other.count == count)
        pointer.update(from: other.pointer, count: count)
    }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }
}

/// An n-dimensional array as stored in a checkpoint: dtype, row-major shape and raw little-endian
/// bytes. The bytes may be a zero-copy view into a mapped file or owned memory (`ByteStorage`).
public struct Tensor: Sendable {
    public let dtype: DType
    public let shape: [Int]
    public let storage: ByteStorage

    /// Wraps `storage`, checking that its size matches dtype and shape.
    public init(dtype: DType, shape: [Int], storage: ByteStorage) throws(StorageError) {
        guard let n = Shape.elementCount(shape) else {
            throw .invalidTensor(tensor: "?", reason: "shape \(Shape.describe(shape)) is invalid or overflows")
        }
        guard let bytes = dtype.byteCount(elements: n), bytes == storage.count else {
            throw .invalidTensor(tensor: "?", reason: "\(storage.count) bytes do not hold \(n) \(dtype.rawValue) values")
        }
        self.dtype = dtype
        self.shape = shape
        self.storage = storage
    }

    public var elementCount: Int { Shape.elementCount(shape) ?? 0 }

    /// Runs `body` with the raw little-endian bytes, keeping the storage alive meanwhile.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes(body)
    }
    public var byteCount: Int { storage.count }
    public func info(name: String) -> TensorInfo { TensorInfo(name: name, dtype: dtype, shape: shape) }

    /// Builds a tensor of `dtype` from Float values (rounded to nearest-even for F16/BF16).
    public static func fromFloats(_ values: [Float], shape: [Int], dtype: DType = .f32) throws(StorageError) -> Tensor {
        guard dtype.supportsArithmetic else { throw .invalidTensor(tensor: "?", reason: "cannot encode floats as \(dtype.rawValue)") }
        guard Shape.elementCount(shape) == values.count else {
            throw .invalidTensor(tensor: "?", reason: "\(values.count) values do not fill shape \(Shape.describe(shape))")
        }
        let bytes = dtype.byteCount(elements: values.count)!
        let storage = values.withUnsafeBufferPointer { src in
            ByteStorage.allocate(count: bytes) { dst in
                ElementConversion.encode(src, as: dtype, into: dst)
            }
        }
        return try Tensor(dtype: dtype, shape: shape, storage: storage)
    }

    /// Builds a tensor of `dtype` from Double values.
    public static func fromDoubles(_ values: [Double], shape: [Int], dtype: DType = .f64) throws(StorageError) -> Tensor {
        if dtype == .f64 {
            guard Shape.elementCount(shape) == values.count else {
                throw .invalidTensor(tensor: "?", reason: "\(values.count) values do not fill shape \(Shape.describe(shape))")
            }
            let storage = values.withUnsafeBytes { ByteStorage(copying: $0) }
            return try Tensor(dtype: .f64, shape: shape, storage: storage)
        }
        return try fromFloats(values.map { Float($0) }, shape: shape, dtype: dtype)
    }

    /// Decodes the values to Float. Only for dtypes with `supportsArithmetic`.
    public func floats() throws(StorageError) -> [Float] {
        guard dtype.supportsArithmetic else { throw .notArithmetic(path: "", tensor: "?", dtype: dtype) }
        let n = elementCount
        return [Float](unsafeUninitializedCapacity: n) { buf, count in
            ElementConversion.decode(storage.buffer, from: dtype, into: UnsafeMutableBufferPointer(rebasing: buf[0..<n]))
            count = n
        }
    }

    /// Decodes the values to Double (exact for F64). Only for dtypes with `supportsArithmetic`.
    public func doubles() throws(StorageError) -> [Double] {
        guard dtype.supportsArithmetic else { throw .notArithmetic(path: "", tensor: "?", dtype: dtype) }
        if dtype == .f64 {
            let n = elementCount
            return [Double](unsafeUninitializedCapacity: n) { buf, count in
                if n > 0 { UnsafeMutableRawPointer(buf.baseAddress!).copyMemory(from: storage.base, byteCount: storage.count) }
                count = n
            }
        }
        return try floats().map { Double($0) }
    }

    /// Decodes into a caller-provided buffer of exactly `elementCount` floats (reused across tensors
    /// by streaming passes so they allocate nothing per tensor).
    public func decode(into dst: UnsafeMutableBufferPointer<Float>) {
        precondition(dtype.supportsArithmetic && dst.count == elementCount)
        ElementConversion.decode(storage.buffer, from: dtype, into: dst)
    }
}

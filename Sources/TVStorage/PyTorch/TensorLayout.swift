/// A torch tensor's strided view of its storage, validated against the storage's byte length,
/// and turned into a `Tensor`: contiguous views map without copying, other strides are gathered
/// into owned row-major memory.
struct TensorLayout {
    let dtype: DType
    let shape: [Int]
    let stride: [Int]
    /// In elements of `dtype`.
    let offset: Int
    let elementCount: Int
    let elementSize: Int
    /// Bytes of the storage the view reaches (0 for an empty tensor).
    let neededBytes: Int

    /// Validates the description (sub-byte dtypes, shape or stride overflow).
    init(_ ref: TensorRef) throws(StorageError) {
        guard ref.dtype.bitWidth % 8 == 0 else { throw .invalidTensor(tensor: "?", reason: "sub-byte dtype \(ref.dtype.rawValue)") }
        guard let n = Shape.elementCount(ref.shape) else {
            throw .invalidTensor(tensor: "?", reason: "shape \(Shape.describe(ref.shape)) overflows")
        }
        dtype = ref.dtype
        shape = ref.shape
        stride = ref.stride
        offset = ref.offset
        elementCount = n
        elementSize = ref.dtype.bitWidth / 8
        guard n > 0 else { neededBytes = 0; return }
        // Highest element index the view touches: offset + Σ (size_i - 1) * stride_i.
        var last = ref.offset
        for (size, step) in zip(ref.shape, ref.stride) {
            let (span, o1) = (size - 1).multipliedReportingOverflow(by: step)
            let (sum, o2) = last.addingReportingOverflow(span)
            guard !o1, !o2 else { throw .invalidTensor(tensor: "?", reason: "strides overflow") }
            last = sum
        }
        let (end, o1) = last.addingReportingOverflow(1)
        let (bytes, o2) = end.multipliedReportingOverflow(by: elementSize)
        guard !o1, !o2 else { throw .invalidTensor(tensor: "?", reason: "storage offset overflows") }
        neededBytes = bytes
        // The row-major copy of a strided view is never larger than its storage unless strides
        // repeat elements (stride 0, from expand()). Bound that, so a few bytes of hostile pickle
        // cannot demand terabytes of memory.
        let (owned, o3) = n.multipliedReportingOverflow(by: elementSize)
        guard !o3, owned <= max(bytes, Self.maxExpansionBytes) else {
            throw .invalidTensor(tensor: "?", reason: "strides repeat elements: \(bytes) storage bytes would expand to \(o3 ? Int.max : owned)")
        }
    }

    /// Largest row-major copy of a tensor whose strides repeat elements.
    static let maxExpansionBytes = 256 << 20

    /// Row-major contiguous (dimensions of size 1 may have any stride).
    var isContiguous: Bool {
        var expected = 1
        for i in stride.indices.reversed() where shape[i] != 1 {
            if stride[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// The tensor's values from `storage` (at least `neededBytes` long). Contiguous tensors view
    /// the storage (and through it the mapped file) without copying; others are gathered.
    func makeTensor(storage: ByteStorage) throws(StorageError) -> Tensor {
        precondition(neededBytes <= storage.count)
        let byteCount = elementCount * elementSize
        if elementCount == 0 {
            return try Tensor(dtype: dtype, shape: shape, storage: ByteStorage(copying: EmptyCollection<UInt8>()))
        }
        if isContiguous {
            let start = offset * elementSize
            if start == 0 && byteCount == storage.count { return try Tensor(dtype: dtype, shape: shape, storage: storage) }
            let view: ByteStorage
            if let mapping = storage.mapping {
                view = ByteStorage(mapping: mapping, offset: storage.base - mapping.base + start, count: byteCount)
            } else {
                view = ByteStorage(viewing: storage.base + start, count: byteCount, owner: storage)
            }
            return try Tensor(dtype: dtype, shape: shape, storage: view)
        }
        let owned = ByteStorage.allocate(count: byteCount) { dst in gather(from: storage.buffer, into: dst) }
        return try Tensor(dtype: dtype, shape: shape, storage: owned)
    }

    /// Copies the strided elements into `dst` in row-major order, a whole innermost row at a time.
    private func gather(from src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) {
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        let rank = shape.count
        let inner = shape[rank - 1], innerStride = stride[rank - 1] * elementSize
        let rowBytes = inner * elementSize
        let rows = elementCount / inner
        var index = [Int](repeating: 0, count: max(rank - 1, 0))
        var out = d
        for _ in 0 ..< rows {
            var start = offset
            for k in 0 ..< rank - 1 { start += index[k] * stride[k] }
            let row = s + start * elementSize
            if innerStride == elementSize {
                out.copyMemory(from: row, byteCount: rowBytes)
            } else {
                for j in 0 ..< inner { (out + j * elementSize).copyMemory(from: row + j * innerStride, byteCount: elementSize) }
            }
            out += rowBytes
            // Advance the odometer over the outer dimensions.
            var k = rank - 2
            while k >= 0 {
                index[k] += 1
                if index[k] < shape[k] { break }
                index[k] = 0
                k -= 1
            }
        }
    }
}

/// Every way a safetensors file (or shard set) can be wrong, one case per row of the validation
/// table in formats.md (rows that group several situations get one case each). Each message is one
/// line naming the file and, where there is one, the tensor.
public enum SafetensorsError: BadInputError, Equatable {
    // Framing: u64 header length N, then N header bytes, then the data buffer.
    case headerTooSmall(path: String, fileSize: Int)
    case headerTooLarge(path: String, headerLength: UInt64)
    case headerLengthBeyondFile(path: String, headerLength: UInt64, fileSize: Int)
    // Header text.
    case headerNotUTF8(path: String)
    case headerHasBOM(path: String)
    case headerNotJSON(path: String, reason: String, byteOffset: Int)
    case headerTrailingBytes(path: String, byteOffset: Int)
    case headerNotObject(path: String, found: String)
    // Entries.
    case duplicateTensor(path: String, tensor: String)
    case entryNotObject(path: String, tensor: String, found: String)
    case missingField(path: String, tensor: String, field: String)
    case unknownDType(path: String, tensor: String, dtype: String)
    case invalidShape(path: String, tensor: String, found: String)
    case invalidDataOffsets(path: String, tensor: String, found: String)
    case invalidMetadata(path: String, key: String, found: String)
    case metadataNotObject(path: String, found: String)
    case duplicateMetadataKey(path: String, key: String)
    case duplicateField(path: String, tensor: String, field: String)
    // Sizes and layout of the data buffer.
    case shapeOverflow(path: String, tensor: String)
    case subByteMisaligned(path: String, tensor: String, elements: Int, dtype: DType)
    case sizeMismatch(path: String, tensor: String, expected: Int, actual: Int)
    case offsetsReversed(path: String, tensor: String, begin: Int, end: Int)
    case firstTensorNotAtStart(path: String, tensor: String, begin: Int)
    case dataGap(path: String, tensor: String, expectedBegin: Int, begin: Int)
    case dataOverlap(path: String, tensor: String, expectedBegin: Int, begin: Int)
    case trailingData(path: String, dataEnd: Int, bufferSize: Int)
    case truncatedData(path: String, dataEnd: Int, bufferSize: Int)
    // Shard sets (`*.safetensors.index.json`).
    case invalidIndex(path: String, reason: String)
    case shardMissing(path: String, shard: String)
    case tensorMissingFromShard(path: String, tensor: String, shard: String)
    case tensorInTwoShards(path: String, tensor: String, shards: [String])
    // Writing.
    case invalidDeclaration(path: String, tensor: String, reason: String)
    case undeclaredTensor(path: String, tensor: String)
    case tensorMismatch(path: String, tensor: String, declared: String, given: String)
    case tensorWrittenTwice(path: String, tensor: String)
    case rangeOutsideTensor(path: String, tensor: String, offset: Int, count: Int, byteCount: Int)
    case tensorsNotWritten(path: String, tensors: [String])

    /// The case name, a stable identifier for scripts and the malformed-corpus tests.
    public var kind: String {
        Mirror(reflecting: self).children.first?.label ?? String(describing: self)
    }

    /// One line whatever the file contains: control characters in names are shown escaped.
    public var description: String { Console.oneLine(message) }

    private var message: String {
        switch self {
        case let .headerTooSmall(p, size):
            return "\(p): not a safetensors file: \(size) bytes is shorter than the 8-byte header length"
        case let .headerTooLarge(p, n):
            return "\(p): header length \(n) exceeds the 100,000,000-byte limit"
        case let .headerLengthBeyondFile(p, n, size):
            return "\(p): header length \(n) runs past the end of the \(size)-byte file"
        case let .headerNotUTF8(p): return "\(p): header is not valid UTF-8"
        case let .headerHasBOM(p): return "\(p): header starts with a byte-order mark, which JSON does not allow"
        case let .headerNotJSON(p, reason, at): return "\(p): header is not valid JSON at byte \(at): \(reason)"
        case let .headerTrailingBytes(p, at): return "\(p): header has non-whitespace bytes after the JSON object (at byte \(at))"
        case let .headerNotObject(p, found): return "\(p): header is \(found), expected a JSON object"
        case let .duplicateTensor(p, t): return "\(p): tensor '\(t)' appears more than once in the header"
        case let .entryNotObject(p, t, found): return "\(p): tensor '\(t)': entry is \(found), expected an object"
        case let .missingField(p, t, f): return "\(p): tensor '\(t)': missing or null field '\(f)'"
        case let .unknownDType(p, t, d): return "\(p): tensor '\(t)': unknown dtype \(d)"
        case let .invalidShape(p, t, found): return "\(p): tensor '\(t)': shape \(found) is not a list of non-negative integers"
        case let .invalidDataOffsets(p, t, found): return "\(p): tensor '\(t)': data_offsets \(found) is not two non-negative integers"
        case let .invalidMetadata(p, k, found): return "\(p): __metadata__ entry '\(k)' is \(found), expected a string"
        case let .metadataNotObject(p, found): return "\(p): __metadata__ is \(found), expected an object of strings"
        case let .duplicateMetadataKey(p, k): return "\(p): __metadata__ has the key '\(k)' more than once"
        case let .duplicateField(p, t, f): return "\(p): tensor '\(t)': field '\(f)' appears more than once"
        case let .shapeOverflow(p, t): return "\(p): tensor '\(t)': shape size overflows"
        case let .subByteMisaligned(p, t, n, d):
            return "\(p): tensor '\(t)': \(n) \(d.rawValue) values do not fill a whole number of bytes"
        case let .sizeMismatch(p, t, e, a):
            return "\(p): tensor '\(t)': data_offsets cover \(a) bytes but dtype and shape need \(e)"
        case let .offsetsReversed(p, t, b, e): return "\(p): tensor '\(t)': data_offsets end \(e) is before begin \(b)"
        case let .firstTensorNotAtStart(p, t, b): return "\(p): tensor '\(t)': first tensor starts at \(b), not 0"
        case let .dataGap(p, t, e, b): return "\(p): tensor '\(t)': starts at \(b), leaving a gap after the previous tensor's end \(e)"
        case let .dataOverlap(p, t, e, b): return "\(p): tensor '\(t)': starts at \(b), overlapping the previous tensor (ends at \(e))"
        case let .trailingData(p, end, size): return "\(p): \(size - end) bytes after the last tensor (data ends at \(end) of \(size))"
        case let .truncatedData(p, end, size): return "\(p): data truncated: tensors need \(end) bytes but the file holds \(size)"
        case let .invalidIndex(p, r): return "\(p): invalid shard index: \(r)"
        case let .shardMissing(p, s): return "\(p): shard file '\(s)' does not exist"
        case let .tensorMissingFromShard(p, t, s): return "\(p): tensor '\(t)' is mapped to shard '\(s)' but not in it"
        case let .tensorInTwoShards(p, t, s): return "\(p): tensor '\(t)' is in more than one shard: \(s.joined(separator: ", "))"
        case let .invalidDeclaration(p, t, r): return "\(p): tensor '\(t)': \(r)"
        case let .undeclaredTensor(p, t): return "\(p): tensor '\(t)' was not declared when the file was created"
        case let .tensorMismatch(p, t, d, g): return "\(p): tensor '\(t)': declared as \(d) but given \(g)"
        case let .tensorWrittenTwice(p, t): return "\(p): tensor '\(t)' written twice"
        case let .rangeOutsideTensor(p, t, o, c, b): return "\(p): tensor '\(t)': bytes \(o)..<\(o + c) lie outside its \(b) bytes"
        case let .tensorsNotWritten(p, ts):
            let shown = ts.prefix(3).map { "'\($0)'" }.joined(separator: ", ")
            return "\(p): \(ts.count) declared tensors never written (\(shown)\(ts.count > 3 ? ", …" : ""))"
        }
    }
}

/// The safetensors header: `u64 LE N | N bytes of JSON | data buffer`. Parsing validates
/// everything that can be checked without touching the data (formats.md's table), so a reader
/// built on it can hand out views that are guaranteed to lie inside the buffer.
public struct SafetensorsHeader: Sendable {
    /// One tensor's header entry. `begin..<end` is relative to the data buffer.
    public struct Entry: Sendable, Hashable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var begin: Int
        public var end: Int
        public var info: TensorInfo { TensorInfo(name: name, dtype: dtype, shape: shape) }
    }

    /// The reference reader's limit on N.
    public static let maxHeaderLength: UInt64 = 100_000_000

    /// Entries sorted by offset (file order).
    public var entries: [Entry]
    public var metadata: [String: String]
    /// Byte offset of the data buffer in the file (8 + N).
    public var dataStart: Int

    /// Parses and validates the header of a whole file's bytes. `path` is used in messages only.
    public static func parse(file bytes: UnsafeRawBufferPointer, path: String) throws(SafetensorsError) -> SafetensorsHeader {
        guard bytes.count >= 8 else { throw .headerTooSmall(path: path, fileSize: bytes.count) }
        let n = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard n <= maxHeaderLength else { throw .headerTooLarge(path: path, headerLength: n) }
        guard Int(n) <= bytes.count - 8 else {
            throw .headerLengthBeyondFile(path: path, headerLength: n, fileSize: bytes.count)
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8 ..< 8 + Int(n)])
        var header = try parse(json: headerBytes, path: path)
        header.dataStart = 8 + Int(n)
        try validateLayout(header.entries, bufferSize: bytes.count - header.dataStart, path: path)
        return header
    }

    /// Parses the JSON text of a header into entries (sorted by offset) and metadata; checks each
    /// entry on its own but not the layout of the buffer (see `validateLayout`).
    static func parse(json bytes: UnsafeRawBufferPointer, path: String) throws(SafetensorsError) -> SafetensorsHeader {
        if bytes.count >= 3 && bytes[0] == 0xef && bytes[1] == 0xbb && bytes[2] == 0xbf {
            throw .headerHasBOM(path: path)
        }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw .headerNotUTF8(path: path) }
        let root: HeaderJSON
        do {
            root = try HeaderJSONParser.parse(bytes)
        } catch {
            let (reason, at): (String, Int)
            switch error { case let .syntax(r, a): (reason, at) = (r, a) }
            // Bytes after a complete value (NUL padding, a second object) get their own error.
            if reason.hasSuffix("after the JSON value") { throw .headerTrailingBytes(path: path, byteOffset: at) }
            throw .headerNotJSON(path: path, reason: reason, byteOffset: at)
        }
        guard case let .object(members) = root else { throw .headerNotObject(path: path, found: root.brief) }

        var seen = Set<String>()
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (name, value) in members {
            guard seen.insert(name).inserted else { throw .duplicateTensor(path: path, tensor: name) }
            if name == "__metadata__" {
                metadata = try parseMetadata(value, path: path)
            } else {
                entries.append(try parseEntry(name: name, value, path: path))
            }
        }
        // File order: by offsets, as the reference sorts them; name breaks ties deterministically.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        return SafetensorsHeader(entries: entries, metadata: metadata, dataStart: 8 + bytes.count)
    }

    private static func parseMetadata(_ value: HeaderJSON, path: String) throws(SafetensorsError) -> [String: String] {
        switch value {
        case .null: return [:]
        case let .object(members):
            var out: [String: String] = [:]
            for (k, v) in members {
                guard case let .string(s) = v else { throw .invalidMetadata(path: path, key: k, found: v.brief) }
                guard out.updateValue(s, forKey: k) == nil else {
                    throw .duplicateMetadataKey(path: path, key: k)
                }
            }
            return out
        default:
            throw .metadataNotObject(path: path, found: value.brief)
        }
    }

    private static func parseEntry(name: String, _ value: HeaderJSON, path: String) throws(SafetensorsError) -> Entry {
        guard case let .object(fields) = value else { throw .entryNotObject(path: path, tensor: name, found: value.brief) }
        func field(_ key: String) throws(SafetensorsError) -> HeaderJSON {
            // A repeated field is as ambiguous as a repeated tensor name.
            let matches = fields.filter { $0.key == key }
            guard matches.count <= 1 else {
                throw .duplicateField(path: path, tensor: name, field: key)
            }
            guard let v = matches.first?.value, !isNull(v) else { throw .missingField(path: path, tensor: name, field: key) }
            return v
        }
        let dtypeValue = try field("dtype")
        guard case let .string(dtypeName) = dtypeValue, let dtype = DType(rawValue: dtypeName) else {
            throw .unknownDType(path: path, tensor: name, dtype: dtypeValue.brief)
        }
        let shapeValue = try field("shape")
        guard case let .array(dims) = shapeValue else { throw .invalidShape(path: path, tensor: name, found: shapeValue.brief) }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        for d in dims {
            guard let u = d.unsignedInteger else {
                // A huge integer literal is a size overflow, not a malformed dimension.
                if case let .number(t) = d, !t.contains(where: { !$0.isNumber }) { throw .shapeOverflow(path: path, tensor: name) }
                throw .invalidShape(path: path, tensor: name, found: shapeValue.briefList)
            }
            guard u <= UInt64(Int.max) else { throw .shapeOverflow(path: path, tensor: name) }
            shape.append(Int(u))
        }
        let offsetsValue = try field("data_offsets")
        guard case let .array(offs) = offsetsValue, offs.count == 2,
              let b = offs[0].unsignedInteger, let e = offs[1].unsignedInteger,
              b <= UInt64(Int.max), e <= UInt64(Int.max) else {
            throw .invalidDataOffsets(path: path, tensor: name, found: offsetsValue.briefList)
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: Int(b), end: Int(e))
    }

    private static func isNull(_ v: HeaderJSON) -> Bool { if case .null = v { return true }; return false }

    /// Checks that the entries (sorted by offset) tile the buffer exactly: each tensor's byte range
    /// matches its dtype and shape, ranges are contiguous from 0, and they end at the buffer's end.
    static func validateLayout(_ entries: [Entry], bufferSize: Int, path: String) throws(SafetensorsError) {
        var expected = 0
        for (i, t) in entries.enumerated() {
            if t.end < t.begin { throw .offsetsReversed(path: path, tensor: t.name, begin: t.begin, end: t.end) }
            if t.begin != expected {
                if i == 0 { throw .firstTensorNotAtStart(path: path, tensor: t.name, begin: t.begin) }
                if t.begin > expected { throw .dataGap(path: path, tensor: t.name, expectedBegin: expected, begin: t.begin) }
                throw .dataOverlap(path: path, tensor: t.name, expectedBegin: expected, begin: t.begin)
            }
            guard let n = Shape.elementCount(t.shape), n.multipliedReportingOverflow(by: t.dtype.bitWidth).overflow == false else {
                throw .shapeOverflow(path: path, tensor: t.name)
            }
            guard let size = t.dtype.byteCount(elements: n) else {
                throw .subByteMisaligned(path: path, tensor: t.name, elements: n, dtype: t.dtype)
            }
            if t.end - t.begin != size { throw .sizeMismatch(path: path, tensor: t.name, expected: size, actual: t.end - t.begin) }
            expected = t.end
        }
        if expected > bufferSize { throw .truncatedData(path: path, dataEnd: expected, bufferSize: bufferSize) }
        if expected < bufferSize { throw .trailingData(path: path, dataEnd: expected, bufferSize: bufferSize) }
    }
}

extension HeaderJSON {
    /// Brief rendering of a short list for messages (`[3, -1]`), falling back to the type.
    fileprivate var briefList: String {
        guard case let .array(xs) = self, xs.count <= 8 else { return brief }
        return "[" + xs.map(\.brief).joined(separator: ", ") + "]"
    }
}

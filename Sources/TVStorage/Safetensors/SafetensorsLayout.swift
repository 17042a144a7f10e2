/// The layout a writer gives a new safetensors file, computed from the declared tensors alone:
/// tensors ordered by dtype alignment (largest first) then name (byte order, as Python/Rust
/// compare strings), the header JSON with `__metadata__` first, padded with spaces so the data
/// buffer starts at a multiple of 8.
public struct SafetensorsLayout: Sendable {
    public let entries: [SafetensorsHeader.Entry]
    public let headerJSON: [UInt8]
    public var dataStart: Int { 8 + headerJSON.count }
    public var dataSize: Int { entries.last?.end ?? 0 }
    public var fileSize: Int { dataStart + dataSize }

    /// Plans the file. Metadata always gets `"format": "pt"` (transformers and diffusers expect
    /// it); other caller keys are kept as given.
    public init(tensors: [TensorInfo], metadata: [String: String], path: String) throws(SafetensorsError) {
        var seen = Set<String>()
        for t in tensors {
            guard t.name != "__metadata__" else {
                throw .invalidDeclaration(path: path, tensor: t.name, reason: "the name is reserved for metadata")
            }
            guard seen.insert(t.name).inserted else { throw .duplicateTensor(path: path, tensor: t.name) }
        }
        let ordered = tensors.sorted { a, b in
            if a.dtype.alignment != b.dtype.alignment { return a.dtype.alignment > b.dtype.alignment }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        var entries: [SafetensorsHeader.Entry] = []
        entries.reserveCapacity(ordered.count)
        var offset = 0
        for t in ordered {
            guard let n = Shape.elementCount(t.shape) else {
                throw .invalidDeclaration(path: path, tensor: t.name, reason: "shape \(Shape.describe(t.shape)) is negative or overflows")
            }
            guard let size = t.dtype.byteCount(elements: n) else {
                throw .subByteMisaligned(path: path, tensor: t.name, elements: n, dtype: t.dtype)
            }
            let (end, o) = offset.addingReportingOverflow(size)
            guard !o else { throw .shapeOverflow(path: path, tensor: t.name) }
            entries.append(.init(name: t.name, dtype: t.dtype, shape: t.shape, begin: offset, end: end))
            offset = end
        }
        var meta = metadata
        meta["format"] = "pt"
        self.entries = entries
        self.headerJSON = Self.encodeHeader(entries: entries, metadata: meta)
    }

    static func encodeHeader(entries: [SafetensorsHeader.Entry], metadata: [String: String]) -> [UInt8] {
        var out: [UInt8] = []
        func append(_ s: String) { out.append(contentsOf: s.utf8) }
        append("{")
        var first = true
        if !metadata.isEmpty {
            append("\"__metadata__\":{")
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (i, k) in keys.enumerated() {
                if i > 0 { append(",") }
                appendJSONString(k, to: &out)
                append(":")
                appendJSONString(metadata[k]!, to: &out)
            }
            append("}")
            first = false
        }
        for e in entries {
            if !first { append(",") }
            first = false
            appendJSONString(e.name, to: &out)
            append(":{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[")
            append(e.shape.map(String.init).joined(separator: ","))
            append("],\"data_offsets\":[\(e.begin),\(e.end)]}")
        }
        append("}")
        // Pad with spaces so the data buffer (at 8 + N) starts 8-byte aligned.
        while out.count % 8 != 0 { out.append(0x20) }
        return out
    }

    /// JSON string literal: quotes, backslashes and control characters escaped, the rest raw UTF-8.
    static func appendJSONString(_ s: String, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(contentsOf: [0x5c, 0x22])
            case 0x5c: out.append(contentsOf: [0x5c, 0x5c])
            case 0x0a: out.append(contentsOf: [0x5c, UInt8(ascii: "n")])
            case 0x09: out.append(contentsOf: [0x5c, UInt8(ascii: "t")])
            case 0x0d: out.append(contentsOf: [0x5c, UInt8(ascii: "r")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            default: out.append(b)
            }
        }
        out.append(0x22)
    }
}

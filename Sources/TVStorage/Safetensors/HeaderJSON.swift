/// A JSON value as read from a safetensors header. Objects keep their members in document order,
/// duplicates included, so the caller can reject a repeated key instead of letting one silently
/// win (a parser-differential hazard). Numbers keep their literal text; callers decide which
/// forms they accept (shapes and offsets: non-negative integer literals only).
enum HeaderJSON: Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([HeaderJSON])
    case object([(key: String, value: HeaderJSON)])

    /// The value of a non-negative integer literal (`0`, `17`), nil for anything else: negative,
    /// fraction, exponent, or a value beyond `UInt64`.
    var unsignedInteger: UInt64? {
        guard case let .number(text) = self, !text.isEmpty else { return nil }
        var v: UInt64 = 0
        for c in text.utf8 {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
            guard !o1 && !o2 else { return nil }
            v = a
        }
        return v
    }

    /// A short description for error messages (type and, for scalars, the literal).
    var brief: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .number(t): return t
        case let .string(s): return "\"" + (s.count > 40 ? String(s.prefix(40)) + "…" : s) + "\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Strict RFC 8259 parser for header bytes already validated as UTF-8. Rejects trailing
/// non-whitespace (NUL padding included), control characters in strings, lone surrogates, and
/// nesting deeper than `maxDepth` (so hostile input cannot exhaust the stack).
struct HeaderJSONParser {
    enum Failure: Error { case syntax(String, at: Int) }

    static let maxDepth = 128
    private let bytes: UnsafeRawBufferPointer
    private var pos = 0

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Parses one JSON document, allowing JSON whitespace around it.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> HeaderJSON {
        var p = HeaderJSONParser(bytes)
        p.skipWhitespace()
        let v = try p.value(depth: 0)
        p.skipWhitespace()
        if p.pos != bytes.count {
            throw .syntax("unexpected byte 0x" + String(bytes[p.pos], radix: 16) + " after the JSON value", at: p.pos)
        }
        return v
    }

    private var atEnd: Bool { pos >= bytes.count }
    private func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private mutating func skipWhitespace() {
        while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d { pos += 1 }
    }

    private func fail(_ message: String) -> Failure { .syntax(message, at: pos) }

    private mutating func expect(_ literal: StaticString) throws(Failure) {
        let n = literal.utf8CodeUnitCount
        guard bytes.count - pos >= n else { throw fail("truncated literal") }
        let lit = UnsafeRawBufferPointer(start: literal.utf8Start, count: n)
        for i in 0..<n where bytes[pos + i] != lit[i] { throw fail("invalid literal") }
        pos += n
    }

    private mutating func value(depth: Int) throws(Failure) -> HeaderJSON {
        guard depth < Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth) levels") }
        guard let c = peek() else { throw fail("unexpected end of header") }
        switch c {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected byte 0x" + String(c, radix: 16))
        }
    }

    private mutating func object(depth: Int) throws(Failure) -> HeaderJSON {
        pos += 1  // {
        var members: [(key: String, value: HeaderJSON)] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { pos += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try string()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw fail("expected ':'") }
            pos += 1
            skipWhitespace()
            members.append((key, try value(depth: depth + 1)))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ",")?: pos += 1
            case UInt8(ascii: "}")?: pos += 1; return .object(members)
            default: throw fail("expected ',' or '}'")
            }
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> HeaderJSON {
        pos += 1  // [
        var items: [HeaderJSON] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ",")?: pos += 1
            case UInt8(ascii: "]")?: pos += 1; return .array(items)
            default: throw fail("expected ',' or ']'")
            }
        }
    }

    private mutating func number() throws(Failure) -> HeaderJSON {
        let start = pos
        func digits(_ p: inout HeaderJSONParser) -> Int {
            var n = 0
            while let c = p.peek(), c >= 0x30 && c <= 0x39 { p.pos += 1; n += 1 }
            return n
        }
        if peek() == UInt8(ascii: "-") { pos += 1 }
        if peek() == UInt8(ascii: "0") {
            pos += 1
        } else if digits(&self) == 0 {
            throw fail("invalid number")
        }
        if peek() == UInt8(ascii: ".") {
            pos += 1
            guard digits(&self) > 0 else { throw fail("invalid number") }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            pos += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { pos += 1 }
            guard digits(&self) > 0 else { throw fail("invalid number") }
        }
        return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self))
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard bytes.count - pos >= 4 else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
            pos += 1
        }
        return v
    }

    private mutating func string() throws(Failure) -> String {
        pos += 1  // opening quote
        var out: [UInt8] = []
        // Plain bytes are copied as they are: the whole header was validated as UTF-8 first.
        while true {
            guard let c = peek() else { throw fail("unterminated string") }
            if c == UInt8(ascii: "\"") { pos += 1; break }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); pos += 1; continue }
            pos += 1
            guard let e = peek() else { throw fail("unterminated escape") }
            pos += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0c)
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xd800 && scalar < 0xdc00 {
                    guard bytes.count - pos >= 2, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                        throw fail("lone surrogate in \\u escape")
                    }
                    pos += 2
                    let low = try hex4()
                    guard low >= 0xdc00 && low < 0xe000 else { throw fail("lone surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
                } else if scalar >= 0xdc00 && scalar < 0xe000 {
                    throw fail("lone surrogate in \\u escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                UTF8.encode(u) { out.append($0) }
            default: throw fail("invalid escape")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

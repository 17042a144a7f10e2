import Foundation
import TVStorage

/// A .npy array (NumPy format versions 1–3): little-endian u1/i1/u2/i2/i4/i8/f2/f4/f8, C order.
public struct NumpyArray: Sendable {
    public enum Kind: String, Sendable { case u8 = "u1", i8 = "i1", u16 = "u2", i16 = "i2", i32 = "i4", i64 = "i8", f16 = "f2", f32 = "f4", f64 = "f8" }
    public let kind: Kind
    public let shape: [Int]
    /// Values converted to Double (exact for every supported kind).
    public let values: [Double]

    public static func read(_ path: String) throws(TrainerError) -> NumpyArray {
        switch RegularFile.readAll(path) {
        case .success(let bytes): return try parse(bytes, source: path)
        case .failure(.cannotOpen(_, let reason)): throw .badData(source: path, reason: "cannot read file: " + reason)
        case .failure(let e): throw .badData(source: path, reason: "\(e)")
        }
    }

    public static func parse(_ b: [UInt8], source: String) throws(TrainerError) -> NumpyArray {
        // Header text is quoted in messages: escaped so that the error stays one line.
        func fail(_ r: String) -> TrainerError { .badData(source: source, reason: "not a readable .npy file: " + Console.oneLine(r)) }
        guard b.count >= 10, b[0] == 0x93, Array(b[1...5]) == Array("NUMPY".utf8) else { throw fail("bad magic") }
        let major = b[6]
        let headerLength: Int, start: Int
        switch major {
        case 1: headerLength = Int(b[8]) | Int(b[9]) << 8; start = 10
        case 2, 3:
            guard b.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24; start = 12
        default: throw fail("unsupported version \(major)")
        }
        guard start + headerLength <= b.count else { throw fail("truncated header") }
        let header = String(decoding: b[start..<(start + headerLength)], as: UTF8.self)
        guard let descr = field(header, "descr"), let order = field(header, "fortran_order"), let shapeText = field(header, "shape") else {
            throw fail("header lacks descr/fortran_order/shape")
        }
        guard order == "False" else { throw fail("Fortran-order arrays are not supported") }
        let d = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        guard d.count == 3, let kind = Kind(rawValue: String(d.dropFirst())) else { throw fail("unsupported dtype \(d)") }
        let endian = d.first!
        guard endian == "<" || endian == "|" || (endian == "=" ) else { throw fail("big-endian dtype \(d) is not supported") }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape = [Int]()
        for s in dims { guard let v = Int(s), v >= 0 else { throw fail("bad shape \(shapeText)") }; shape.append(v) }
        let size = ["u1": 1, "i1": 1, "u2": 2, "i2": 2, "f2": 2, "i4": 4, "f4": 4, "i8": 8, "f8": 8][kind.rawValue]!
        // Checked: a hostile header's shape product must not trap.
        guard let n = Shape.elementCount(shape), case let (bytes, overflow) = n.multipliedReportingOverflow(by: size), !overflow else {
            throw fail("shape \(shapeText) is too large")
        }
        let dataStart = start + headerLength
        guard b.count - dataStart == bytes else { throw fail("data holds \(b.count - dataStart) bytes, shape \(shape) needs \(bytes)") }
        var values = [Double](repeating: 0, count: n)
        b.withUnsafeBytes { raw in
            let p = raw.baseAddress! + dataStart
            for i in 0..<n {
                let q = p + i * size
                switch kind {
                case .u8: values[i] = Double(q.load(as: UInt8.self))
                case .i8: values[i] = Double(q.load(as: Int8.self))
                case .u16: values[i] = Double(UInt16(littleEndian: q.loadUnaligned(as: UInt16.self)))
                case .i16: values[i] = Double(Int16(littleEndian: q.loadUnaligned(as: Int16.self)))
                case .i32: values[i] = Double(Int32(littleEndian: q.loadUnaligned(as: Int32.self)))
                case .i64: values[i] = Double(Int64(littleEndian: q.loadUnaligned(as: Int64.self)))
                case .f16: values[i] = Double(Float(Float16(bitPattern: UInt16(littleEndian: q.loadUnaligned(as: UInt16.self)))))
                case .f32: values[i] = Double(Float(bitPattern: UInt32(littleEndian: q.loadUnaligned(as: UInt32.self))))
                case .f64: values[i] = Double(bitPattern: UInt64(littleEndian: q.loadUnaligned(as: UInt64.self)))
                }
            }
        }
        return NumpyArray(kind: kind, shape: shape, values: values)
    }

    /// The text of `'key': value` in a .npy header dict (value up to the next top-level comma).
    private static func field(_ header: String, _ key: String) -> String? {
        guard let r = header.range(of: "'\(key)':") else { return nil }
        var s = header[r.upperBound...].drop { $0 == " " }
        if s.first == "(" {
            guard let close = s.firstIndex(of: ")") else { return nil }
            return String(s[...close])
        }
        if let end = s.firstIndex(where: { $0 == "," || $0 == "}" }) { s = s[..<end] }
        return s.trimmingCharacters(in: .whitespaces)
    }

    /// Writes Float32 values as a version-1 .npy file (temporary file + rename).
    public static func writeFloat32(_ values: [Float], shape: [Int], to path: String) throws {
        precondition(shape.reduce(1, *) == values.count)
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        out.append(contentsOf: Array(header.utf8))
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        try AtomicFile.write(out, to: path)
    }
}

import Foundation
import XCTest
@testable import TVStorage

/// The committed corpora made by fixtures/safetensors/make.py (checked there against the reference
/// reader): every malformed file gets its own error kind naming the file and tensor; every quirk
/// the reference accepts is accepted.
final class SafetensorsCorpusTests: XCTestCase {
    private func json(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture(relative)))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    func testMalformedCorpusGivesTheExpectedErrors() throws {
        let expected = try json("safetensors/malformed/expected.json")
        XCTAssertGreaterThanOrEqual(expected.count, 30)
        var kinds = Set<String>()
        for (file, value) in expected.sorted(by: { $0.key < $1.key }) {
            let spec = value as! [String: Any]
            let kind = spec["kind"] as! String
            let path = TestPaths.fixture("safetensors/malformed/" + file)
            kinds.insert(kind)
            XCTAssertThrowsError(try SafetensorsReader(path: path), file) { error in
                guard let e = error as? SafetensorsError else { return XCTFail("\(file): \(error)") }
                XCTAssertEqual(e.kind, kind, "\(file): \(e)")
                XCTAssertTrue(e.description.contains(path), "\(file): message does not name the file: \(e)")
                XCTAssertFalse(e.description.contains("\n"), "\(file): message is not one line")
                if let tensor = spec["tensor"] as? String {
                    XCTAssertTrue(e.description.contains("'\(tensor)'"), "\(file): message does not name '\(tensor)': \(e)")
                }
            }
        }
        XCTAssertGreaterThanOrEqual(kinds.count, 24, "each table row should have its own error kind")
    }

    func testAcceptedQuirks() throws {
        let expected = try json("safetensors/accepted/expected.json")
        for (file, value) in expected {
            let spec = value as! [String: Any]
            let r = try SafetensorsReader(path: TestPaths.fixture("safetensors/accepted/" + file))
            XCTAssertEqual(r.tensors.map(\.name), spec["tensors"] as? [String], file)
            XCTAssertEqual(r.metadata, spec["metadata"] as? [String: String], file)
            for (name, hex) in spec["hex"] as! [String: String] {
                XCTAssertEqual(try r.tensor(named: name).storage.buffer.hexString, hex, "\(file) \(name)")
            }
        }
    }

    func testEveryDTypeReadsBitForBit() throws {
        let expected = try json("safetensors/dtypes/dtypes.json")
        var dtypesSeen = Set<DType>()
        var decodedCount = 0
        for (file, value) in expected {
            let spec = value as! [String: Any]
            let r = try Checkpoints.open(TestPaths.fixture("safetensors/dtypes/" + file))
            XCTAssertEqual(r.metadata, spec["metadata"] as? [String: String], file)
            let tensors = spec["tensors"] as! [String: [String: Any]]
            XCTAssertEqual(Set(r.tensors.map(\.name)), Set(tensors.keys), file)
            for (name, t) in tensors {
                let tensor = try r.tensor(named: name)
                XCTAssertEqual(tensor.dtype.rawValue, t["dtype"] as? String, name)
                XCTAssertEqual(tensor.shape, t["shape"] as? [Int], name)
                XCTAssertEqual(tensor.storage.buffer.hexString, t["hex"] as? String, name)
                dtypesSeen.insert(tensor.dtype)
                if let bits = t["f32_bits"] as? [NSNumber] {
                    XCTAssertEqual(try tensor.floats().map(\.bitPattern), bits.map(\.uint32Value), name)
                    decodedCount += 1
                }
            }
        }
        XCTAssertEqual(dtypesSeen, Set(DType.allCases), "fixtures should cover every dtype")
        XCTAssertEqual(decodedCount, 8, "F16/BF16/F32 tensors should be compared as decoded values")
    }
}

extension UnsafeRawBufferPointer {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for b in self { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

final class SafetensorsMessageTests: XCTestCase {
    /// Names and values from the file are shown with control characters escaped: one line always.
    func testControlCharactersInNamesStayOnOneLine() throws {
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("x.safetensors").path
        let header = Array(#"{"a\nb":{"dtype":"F\r32","shape":[1],"data_offsets":[0,4]}}"#.utf8)
        var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
        bytes += [0, 0, 0, 0]
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SafetensorsReader(path: path)) { error in
            let e = error as! SafetensorsError
            XCTAssertEqual(e.kind, "unknownDType")
            XCTAssertFalse(e.description.contains("\n") || e.description.contains("\r"), e.description)
            XCTAssertTrue(e.description.contains(#"a\u{a}b"#), e.description)
        }
    }
}

import Foundation
import XCTest
@testable import TVStorage

/// Access to fixtures/pytorch (made by fixtures/pytorch/make.py with torch) and to what torch
/// itself read back from each file (expected.json: dtype, shape, row-major bytes as hex).
enum PyTorchFixtures {
    struct Expected: Decodable {
        let name: String
        let dtype: String
        let shape: [Int]
        let hex: String

        var bytes: [UInt8] {
            var out: [UInt8] = []
            var it = hex.utf8.makeIterator()
            while let hi = it.next(), let lo = it.next() {
                out.append(UInt8(hexDigit(hi) << 4 | hexDigit(lo)))
            }
            return out
        }

        private func hexDigit(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
    }

    static func path(_ name: String) -> String { TestPaths.fixture("pytorch/" + name) }

    static func expected(_ key: String) throws -> [Expected] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path("expected.json")))
        let all = try JSONDecoder().decode([String: [Expected]].self, from: data)
        return try XCTUnwrap(all[key], "expected.json has no entry \(key)")
    }

    /// Asserts the reader lists exactly torch's tensors, in order, with identical bytes.
    static func assertMatchesTorch(_ reader: any CheckpointReader, _ key: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try expected(key)
        XCTAssertEqual(reader.tensors.map(\.name), expected.map(\.name), "tensor names of \(key)", file: file, line: line)
        for e in expected {
            let t = try reader.tensor(named: e.name)
            XCTAssertEqual(t.dtype.rawValue, e.dtype, "\(key): \(e.name) dtype", file: file, line: line)
            XCTAssertEqual(t.shape, e.shape, "\(key): \(e.name) shape", file: file, line: line)
            XCTAssertEqual(Array(t.storage.buffer), e.bytes, "\(key): \(e.name) bytes", file: file, line: line)
            XCTAssertEqual(reader.info(named: e.name)?.shape, e.shape, file: file, line: line)
        }
    }
}

import Foundation
import XCTest
@testable import TVStorage

/// The expected-values file fixtures/hdf5/make.py writes next to each HDF5 fixture.
struct HDF5ExpectedFixture: Decodable {
    struct Tensor: Decodable {
        let name: String
        let dtype: String
        let shape: [Int]
        let hex: String
    }
    let tensors: [Tensor]
    let skipped: [String]
    let metadata: [String: String]?

    static func load(_ stem: String) throws -> HDF5ExpectedFixture {
        let url = URL(fileURLWithPath: TestPaths.fixture("hdf5/\(stem).expected.json"))
        return try JSONDecoder().decode(HDF5ExpectedFixture.self, from: Data(contentsOf: url))
    }

    /// Checks the reader lists exactly the expected tensors, in order, and that every tensor's
    /// bytes equal numpy's little-endian bytes bit for bit.
    func verify(_ reader: any CheckpointReader, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(reader.tensors.map(\.name), tensors.map(\.name), "tensor names/order", file: file, line: line)
        for t in tensors {
            guard let info = reader.info(named: t.name) else { continue }
            XCTAssertEqual(info.dtype.rawValue, t.dtype, "dtype of \(t.name)", file: file, line: line)
            XCTAssertEqual(info.shape, t.shape, "shape of \(t.name)", file: file, line: line)
            let tensor = try reader.tensor(named: t.name)
            XCTAssertEqual(tensor.dtype.rawValue, t.dtype, file: file, line: line)
            XCTAssertEqual(tensor.shape, t.shape, file: file, line: line)
            XCTAssertEqual(h5Hex(tensor.storage.buffer), t.hex, "bytes of \(t.name)", file: file, line: line)
        }
        for path in skipped {
            XCTAssertTrue(reader.notes.contains { $0.hasPrefix("skipped /\(path):") },
                          "no skip note for /\(path) in \(reader.notes)", file: file, line: line)
        }
    }
}

func h5Hex(_ bytes: UnsafeRawBufferPointer) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xf)])
    }
    return String(decoding: out, as: UTF8.self)
}

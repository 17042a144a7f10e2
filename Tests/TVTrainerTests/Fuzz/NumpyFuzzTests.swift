import XCTest
import TVStorage
@testable import TVTrainer

/// Fuzz target for .npy parsing (header dict and data size): typed one-line errors only.
final class NumpyFuzzTests: XCTestCase {
    private func npy(_ descr: String, _ shape: String, data: [UInt8]) -> [UInt8] {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let n = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xff), UInt8(n >> 8)] + Array(header.utf8) + data
    }

    func testFuzzNpy() throws {
        var fuzz = Fuzzer(target: "npy")
        let corpus = [npy("<f4", "(2, 3)", data: [UInt8](repeating: 0x3f, count: 24)),
                      npy("|u1", "(5,)", data: [1, 2, 3, 4, 5]),
                      npy("<i8", "()", data: [UInt8](repeating: 7, count: 8)),
                      npy("<f2", "(0, 4)", data: [])]
        let markers = ["'shape': (", "'descr': '", "NUMPY", ", "].map { Array($0.utf8) }
        while fuzz.next() {
            let seed = corpus[fuzz.int(0..<corpus.count)]
            var mutant = fuzz.chance(0.6) ? fuzz.mutate(seed) : fuzz.mutateNear(markers[fuzz.int(0..<markers.count)], in: seed, window: 16)
            if fuzz.chance(0.1) {  // huge dimensions as text
                let text = String(decoding: mutant, as: UTF8.self).replacingOccurrences(of: "(2, 3)", with: "(4294967296, 4294967296, 9)")
                mutant = Array(text.utf8)
            }
            do { _ = try NumpyArray.parse(mutant, source: "fuzz.npy") } catch {
                XCTAssertFalse("\(error)".contains("\n"), "multi-line error: \(error)")
            }
        }
        print("npy fuzz: \(fuzz.summary)")
    }

    /// Issue 13: a shape whose product overflows trapped (exit 132); now a clear error.
    func testOverflowingShapeIsAnError() {
        let bytes = npy("<f4", "(4294967296, 4294967296, 16)", data: [])
        XCTAssertThrowsError(try NumpyArray.parse(bytes, source: "huge.npy")) { error in
            XCTAssertTrue("\(error)".contains("too large"), "\(error)")
        }
    }
}

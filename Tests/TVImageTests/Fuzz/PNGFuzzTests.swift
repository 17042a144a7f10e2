import XCTest
@testable import TVImage

/// Fuzz target for PNG decoding (chunk lengths, IHDR dimensions, zlib data, filters).
final class PNGFuzzTests: XCTestCase {
    /// A PNG whose chunk CRCs are recomputed after a mutation, so mutants reach past the CRC check.
    private func recrc(_ b: [UInt8]) -> [UInt8] {
        var out = b
        var pos = 8
        while pos + 12 <= out.count {
            let length = Int(out[pos]) << 24 | Int(out[pos + 1]) << 16 | Int(out[pos + 2]) << 8 | Int(out[pos + 3])
            guard length >= 0, pos + 12 + length <= out.count else { break }
            var crc: UInt32 = 0xffff_ffff
            for byte in out[(pos + 4)..<(pos + 8 + length)] { crc = CRC.table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
            crc ^= 0xffff_ffff
            for k in 0..<4 { out[pos + 8 + length + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(k))) }
            pos += 12 + length
        }
        return out
    }

    private enum CRC {
        static let table: [UInt32] = (0..<256).map { n -> UInt32 in
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
            return c
        }
    }

    func testFuzzPNG() throws {
        var fuzz = Fuzzer(target: "png")
        let grey = RasterImage(width: 7, height: 5, channels: 1, pixels: (0..<35).map { UInt8($0 * 7) })
        let rgb = RasterImage(width: 4, height: 3, channels: 3, pixels: (0..<36).map { UInt8($0 * 5) })
        let corpus = [PNGEncoder.encode(grey), PNGEncoder.encode(rgb)]
        let markers = ["IHDR", "IDAT", "IEND"].map { Array($0.utf8) }
        while fuzz.next() {
            let seed = corpus[fuzz.int(0..<corpus.count)]
            var mutant = fuzz.chance(0.5) ? fuzz.mutate(seed) : fuzz.mutateNear(markers[fuzz.int(0..<markers.count)], in: seed, window: 16)
            if fuzz.chance(0.7) { mutant = recrc(mutant) }
            do { _ = try PNGDecoder.decode(mutant, source: "fuzz.png") } catch {
                XCTAssertFalse("\(error)".contains("\n"), "multi-line error: \(error)")
            }
        }
        print("png fuzz: \(fuzz.summary)")
    }

    /// Issue 13: a 65536×65536 header allocated 4 GB before failing; now refused up front.
    func testHugeDimensionsAreRefusedBeforeAllocating() throws {
        var png = PNGEncoder.encode(RasterImage(width: 2, height: 2, channels: 3, pixels: [UInt8](repeating: 9, count: 12)))
        // IHDR body starts at 16: width and height, big-endian.
        for (i, v) in [UInt8(0), 1, 0, 0, 0, 1, 0, 0].enumerated() { png[16 + i] = v }
        png = recrc(png)
        XCTAssertThrowsError(try PNGDecoder.decode(png, source: "huge.png")) { error in
            XCTAssertTrue("\(error)".contains("65536"), "\(error)")
        }
    }
}

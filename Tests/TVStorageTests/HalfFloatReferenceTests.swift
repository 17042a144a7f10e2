import Foundation
import XCTest
@testable import TVStorage

/// HalfFloat and ElementConversion against independent references written by
/// fixtures/safetensors/make.py: numpy for f16 (all 65,536 patterns decoded; tricky f32 values
/// rounded), torch for bf16. NaN payloads may legitimately differ, so NaNs compare as NaN-ness.
final class HalfFloatReferenceTests: XCTestCase {
    private func table<T: FixedWidthInteger>(_ name: String, as: T.Type) throws -> [T] {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("safetensors/halffloat/" + name)))
        return data.withUnsafeBytes { raw in (0..<data.count / MemoryLayout<T>.size).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) } }
    }

    private func decodeAll(_ dtype: DType) -> [Float] {
        let patterns = (0...0xffff).map { UInt16($0) }
        return [Float](unsafeUninitializedCapacity: patterns.count) { buf, n in
            patterns.withUnsafeBytes { ElementConversion.decode($0, from: dtype, into: UnsafeMutableBufferPointer(rebasing: buf[0...])) }
            n = patterns.count
        }
    }

    func testF16DecodeAllPatternsMatchesNumpy() throws {
        let expected = try table("f16_to_f32.bin", as: UInt32.self)
        XCTAssertEqual(expected.count, 65536)
        let bulk = decodeAll(.f16)
        for bits in 0...0xffff {
            let e = Float(bitPattern: expected[bits])
            let scalar = HalfFloat.f16ToF32(UInt16(bits))
            if e.isNaN {
                XCTAssertTrue(scalar.isNaN && bulk[bits].isNaN, "pattern \(bits)")
            } else {
                XCTAssertEqual(scalar.bitPattern, expected[bits], "pattern \(bits)")
                XCTAssertEqual(bulk[bits].bitPattern, expected[bits], "pattern \(bits) (bulk)")
            }
        }
    }

    func testBF16DecodeAllPatternsMatchesTorch() throws {
        let expected = try table("bf16_to_f32.bin", as: UInt32.self)
        let bulk = decodeAll(.bf16)
        for bits in 0...0xffff {
            let e = Float(bitPattern: expected[bits])
            if e.isNaN { XCTAssertTrue(bulk[bits].isNaN); continue }
            XCTAssertEqual(HalfFloat.bf16ToF32(UInt16(bits)).bitPattern, expected[bits], "pattern \(bits)")
            XCTAssertEqual(bulk[bits].bitPattern, expected[bits], "pattern \(bits) (bulk)")
        }
    }

    private func encodeAll(_ values: [Float], _ dtype: DType) -> [UInt16] {
        [UInt16](unsafeUninitializedCapacity: values.count) { buf, n in
            values.withUnsafeBufferPointer { ElementConversion.encode($0, as: dtype, into: UnsafeMutableRawBufferPointer(buf)) }
            n = values.count
        }
    }

    func testRoundingTrickyFloatsMatchesNumpyAndTorch() throws {
        let inputs = try table("tricky_f32.bin", as: UInt32.self).map { Float(bitPattern: $0) }
        let f16 = try table("tricky_to_f16.bin", as: UInt16.self)
        let bf16 = try table("tricky_to_bf16.bin", as: UInt16.self)
        XCTAssertGreaterThan(inputs.count, 20000)
        let bulk16 = encodeAll(inputs, .f16), bulkBF = encodeAll(inputs, .bf16)
        var ties = 0
        for (i, x) in inputs.enumerated() {
            if x.isNaN {
                XCTAssertTrue(HalfFloat.f16ToF32(bulk16[i]).isNaN && HalfFloat.bf16ToF32(bulkBF[i]).isNaN, "NaN input \(i)")
                continue
            }
            XCTAssertEqual(HalfFloat.f32ToF16(x), f16[i], "f16 of \(x) (bits \(String(x.bitPattern, radix: 16)))")
            XCTAssertEqual(bulk16[i], f16[i], "bulk f16 of \(x)")
            XCTAssertEqual(HalfFloat.f32ToBF16(x), bf16[i], "bf16 of \(x) (bits \(String(x.bitPattern, radix: 16)))")
            XCTAssertEqual(bulkBF[i], bf16[i], "bulk bf16 of \(x)")
            if x.bitPattern & 0xffff == 0x8000 { ties += 1 }
        }
        XCTAssertGreaterThan(ties, 1000, "the table should contain bf16 ties")
    }
}

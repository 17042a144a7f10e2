import XCTest
@testable import TVStorage

/// ElementConversion's software half loops (used without F16C) must match HalfFloat (itself
/// checked against numpy/torch tables).
final class ElementConversionHalfTests: XCTestCase {
    func testDecodeAllHalves() {
        let halves = (0...0xFFFF).map { UInt16($0) }
        var out = [Float](repeating: 0, count: halves.count)
        halves.withUnsafeBufferPointer { h in out.withUnsafeMutableBufferPointer { ElementConversion.decodeF16Software(h.baseAddress!, $0.baseAddress!, count: h.count) } }
        for (i, h) in halves.enumerated() {
            XCTAssertEqual(out[i].bitPattern, HalfFloat.f16ToF32(h).bitPattern, "half 0x\(String(h, radix: 16))")
        }
    }

    func testEncodeEdgeAndRandomFloats() {
        var floats: [Float] = [0, -0, 1, -1, 65504, 65519.99, 65520, 65536, 1e10, .infinity, -.infinity, .nan,
                               Float(bitPattern: 0x7fc0_0001), Float(bitPattern: 0xff80_0001), 6.103515625e-05, 6.1e-05,
                               5.960464477539063e-08, 2.98e-08, 2.9802322387695312e-08, 1e-45, .leastNormalMagnitude]
        // Every half value, and the midpoints between neighbouring halves (ties to even).
        for h in 0..<0x7c00 {
            let a = HalfFloat.f16ToF32(UInt16(h)), b = HalfFloat.f16ToF32(UInt16(h + 1))
            floats += [a, -a, (a + b) / 2, -(a + b) / 2, Float(bitPattern: a.bitPattern + 1)]
        }
        floats += randomFloats(20_000, seed: 5, scale: 70_000)
        var out = [UInt16](repeating: 0, count: floats.count)
        floats.withUnsafeBufferPointer { f in out.withUnsafeMutableBufferPointer { ElementConversion.encodeF16Software(f.baseAddress!, $0.baseAddress!, count: f.count) } }
        for (i, f) in floats.enumerated() {
            XCTAssertEqual(out[i], HalfFloat.f32ToF16(f), "float \(f) bits 0x\(String(f.bitPattern, radix: 16))")
        }
    }
}

/// The bulk hardware (F16C) path, where the CPU has it, against the software codec: identical bits
/// except NaN payloads (both must be NaN).
final class HalfHardwareTests: XCTestCase {
    func testHardwareMatchesSoftware() throws {
        guard ElementConversion.halfHardware else { throw XCTSkip("no F16C on this CPU") }
        let halves = (0...0xFFFF).map { UInt16($0) }
        var hw = [Float](repeating: 0, count: halves.count + 3)
        halves.withUnsafeBufferPointer { h in hw.withUnsafeMutableBufferPointer { ElementConversion.decode(UnsafeRawBufferPointer(h), from: .f16, into: UnsafeMutableBufferPointer(rebasing: $0[..<h.count])) } }
        for (i, h) in halves.enumerated() {
            let sw = HalfFloat.f16ToF32(h)
            if sw.isNaN { XCTAssertTrue(hw[i].isNaN) } else { XCTAssertEqual(hw[i].bitPattern, sw.bitPattern, "half \(h)") }
        }
        var floats = randomFloats(30_001, seed: 9, scale: 70_000) + randomFloats(30_001, seed: 10, scale: 1e-4)
        floats += [.nan, .infinity, -.infinity, 65520, 65519.99, 2.9802322387695312e-08, -0]
        var out = [UInt16](repeating: 0, count: floats.count)
        floats.withUnsafeBufferPointer { f in out.withUnsafeMutableBufferPointer { ElementConversion.encode(f, as: .f16, into: UnsafeMutableRawBufferPointer($0)) } }
        for (i, f) in floats.enumerated() {
            let sw = HalfFloat.f32ToF16(f)
            if f.isNaN { XCTAssertEqual(out[i] & 0x7c00, 0x7c00); XCTAssertNotEqual(out[i] & 0x3ff, 0) } else { XCTAssertEqual(out[i], sw, "float \(f)") }
        }
    }
}

/// Deterministic pseudo-random floats in (-scale, scale).
private func randomFloats(_ n: Int, seed: UInt64, scale: Float) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in (Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
}

import CKernels
import XCTest

/// `tv_select_u32` (quickselect below 2^13 values, radix selection from there) against the k-th
/// element of the sorted array, on sizes around the switch, with heavy ties, one repeated value,
/// extreme values, and Gaussian-like float magnitudes clustered in a few exponents.
final class SelectU32Tests: XCTestCase {
    func testMatchesSortAcrossTheRadixSwitch() {
        var rng = SystemRandomNumberGenerator()
        for n in [1, 2, 100, 8191, 8192, 8193, 40_000, 70_001] {
            for kind in 0..<4 {
                let values: [UInt32] = (0..<n).map { _ in
                    switch kind {
                    case 0: return UInt32.random(in: 0...4, using: &rng)  // ties everywhere
                    case 1: return 0x3C00_1234  // one value
                    case 2: return Bool.random(using: &rng) ? 0x7FFF_FFFF : UInt32.random(in: 0...1, using: &rng)
                    default: return Float.random(in: -1...1, using: &rng).magnitude.bitPattern
                    }
                }
                let sorted = values.sorted()
                for k in Set([0, n / 5, n / 2, n - n / 5 - 1, n - 1].filter { $0 >= 0 && $0 < n }) {
                    var copy = values
                    let got = copy.withUnsafeMutableBufferPointer { tv_select_u32($0.baseAddress, n, k) }
                    XCTAssertEqual(got, sorted[k], "n \(n), kind \(kind), k \(k)")
                }
            }
        }
    }
}

import Foundation
import CKernels
import XCTest
@testable import TVTrainer

/// The C kernels (AdamW, SiLU) against the portable Swift loops they replace: same bits, at every
/// length around the vector widths and on awkward values.
final class VectorKernelTests: XCTestCase {
    static let lengths = [0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000]

    func buffer(_ values: [Float]) -> FloatBuffer { FloatBuffer(values) }

    func values(_ n: Int, seed: UInt64, scale: Float) -> [Float] {
        var rng = TrainerRandom(seed: seed)
        return (0..<n).map { _ in (2 * rng.uniform() - 1) * scale }
    }

    func bits(_ b: FloatBuffer) -> [UInt32] { b.array.map(\.bitPattern) }

    /// Runs `body` with the AVX-512 variants allowed, then with only the AVX/AVX2 ones.
    func forEachWidth(_ body: () throws -> Void) rethrows {
        defer { tv_allow_avx512(1) }
        for allowed: Int32 in [1, 0] {
            tv_allow_avx512(allowed)
            try body()
        }
    }

    func testAdamWKernelMatchesPortableLoop() throws {
        try XCTSkipUnless(AdamW.Kernel.vectorised, "no AVX: only the portable loop runs here")
        forEachWidth(adamWCases)
    }

    func adamWCases() {
        for n in Self.lengths {
            for withShadow in [false, true] {
                // Two copies of the state; one updated by each path, over two offsets into the range.
                let g = buffer(values(n, seed: 1, scale: 3))
                var state: [[FloatBuffer]] = []
                for _ in 0..<2 {
                    state.append([buffer(values(n, seed: 2, scale: 1)), buffer(values(n, seed: 3, scale: 0.1)),
                                  buffer(values(n, seed: 4, scale: 0.01).map(abs)), buffer(values(n, seed: 5, scale: 1))])
                }
                func kernel(_ s: [FloatBuffer]) -> AdamW.Kernel {
                    AdamW.Kernel(p: s[0].pointer, g: g.pointer, m: s[1].pointer, v: s[2].pointer,
                                 shadow: withShadow ? s[3].pointer : nil, emaDecay: 0.999, gradientScale: 0.7,
                                 stepSize: 1e-3, invSqrtC2: 1.3, decay: 1 - 1e-5, b1: 0.9, b2: 0.999, eps: 1e-8)
                }
                let split = n / 3
                for range in [0..<split, split..<n] {
                    kernel(state[0]).run(range)
                    kernel(state[1]).runPortable(range)
                }
                for k in 0..<4 { XCTAssertEqual(bits(state[0][k]), bits(state[1][k]), "n \(n), shadow \(withShadow), array \(k)") }
            }
        }
    }

    func testSiLUKernelsMatchPortableLoops() throws {
        try XCTSkipUnless(SiLU.vectorised, "no AVX2: only the portable loops run here")
        forEachWidth(siluCases)
    }

    func siluCases() {
        let specials: [Float] = [0, -0.0, 1e-40, -1e-40, 87, -87, 88.5, -88.5, 100, -100, .infinity, -.infinity, .nan, 1e30, -1e30]
        for n in Self.lengths + [specials.count] {
            var x = values(n, seed: 7, scale: 12)
            if n == specials.count { x = specials }
            let dy = values(n, seed: 8, scale: 1), start = values(n, seed: 9, scale: 1)
            let (y1, s1, y2, s2) = (FloatBuffer(count: n), FloatBuffer(count: n), FloatBuffer(count: n), FloatBuffer(count: n))
            x.withUnsafeBufferPointer { xp in
                SiLU.forward(xp.baseAddress!, y1.pointer, sigmoid: s1.pointer, count: n)
                SiLU.portableForward(xp.baseAddress!, y2.pointer, sigmoid: s2.pointer, count: n)
            }
            XCTAssertEqual(bits(y1), bits(y2), "forward y, n \(n)")
            XCTAssertEqual(bits(s1), bits(s2), "forward s, n \(n)")
            for accumulate in [false, true] {
                let (d1, d2) = (buffer(start), buffer(start))
                x.withUnsafeBufferPointer { xp in
                    dy.withUnsafeBufferPointer { dp in
                        SiLU.backward(x: xp.baseAddress!, sigmoid: s1.pointer, dy: dp.baseAddress!, dx: d1.pointer, count: n, accumulate: accumulate)
                        SiLU.portableBackward(x: xp.baseAddress!, sigmoid: s1.pointer, dy: dp.baseAddress!, dx: d2.pointer, count: n, accumulate: accumulate)
                    }
                }
                XCTAssertEqual(bits(d1), bits(d2), "backward, n \(n), accumulate \(accumulate)")
            }
        }
    }

    func testBulkNormalsMatchOneByOne() throws {
        for (skip, n) in [(0, 10), (1, 10), (1, 9), (0, 1), (3, 0)] {
            var a = TrainerRandom(seed: 42), b = TrainerRandom(seed: 42)
            for _ in 0..<skip { _ = a.normal(); _ = b.normal() }  // an odd skip leaves a spare pending
            let bulk = a.normals(n)
            let single = (0..<n).map { _ in b.normal() }
            XCTAssertEqual(bulk.map(\.bitPattern), single.map(\.bitPattern), "skip \(skip), n \(n)")
            XCTAssertEqual(a, b)
        }
        var r = TrainerRandom(seed: 5)
        _ = r.normal()
        let decoded = try JSONDecoder().decode(TrainerRandom.self, from: JSONEncoder().encode(r))
        XCTAssertEqual(decoded, r)
        XCTAssertEqual(TrainerRandom(state: r.state).state, r.state)
    }
}

import CKernels
import Foundation
import XCTest
@testable import TVTrainer

/// CKernels' tiled GEMM (tv_mlp_gemm) against a Double-precision product (an independent oracle),
/// against its own order-preserving scalar reference (same bits), at both vector widths, for
/// every operand layout, awkward sizes (tile edges, more than one 256-deep k block, strided
/// rows), with bias and accumulation; and the properties the trainer relies on: a row's result
/// does not depend on the batch it is in, and concurrent callers do not disturb each other.
final class MatrixProductTests: XCTestCase {
    struct Case {
        var transA: Bool, transB: Bool, m: Int, n: Int, k: Int
        var bias: Bool, accumulate: Bool
        var pad = 3  // extra floats per row of every operand (row strides wider than the rows)
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(tv_mlp_gemm_available() != 0, "no AVX2+FMA: the OpenBLAS path runs here")
    }

    static func values(_ n: Int, seed: UInt64) -> [Float] {
        var rng = TrainerRandom(seed: seed)
        return (0..<n).map { _ in 2 * rng.uniform() - 1 }
    }

    struct Operands {
        var a, b, bias, c: [Float]
        var lda, ldb, ldc: Int
    }

    static func operands(_ c: Case, seed: UInt64) -> Operands {
        let lda = (c.transA ? c.m : c.k) + c.pad, ldb = (c.transB ? c.k : c.n) + c.pad, ldc = c.n + c.pad
        return Operands(a: Self.values((c.transA ? c.k : c.m) * lda, seed: seed),
                        b: Self.values((c.transB ? c.n : c.k) * ldb, seed: seed + 1),
                        bias: Self.values(c.n, seed: seed + 2), c: Self.values(c.m * ldc, seed: seed + 3),
                        lda: lda, ldb: ldb, ldc: ldc)
    }

    /// Runs tv_mlp_gemm (or the scalar reference) on a copy of `o.c` and returns it.
    static func run(_ c: Case, _ o: Operands, reference: Bool = false) -> [Float] {
        var out = o.c
        o.a.withUnsafeBufferPointer { a in
            o.b.withUnsafeBufferPointer { b in
                o.bias.withUnsafeBufferPointer { bias in
                    out.withUnsafeMutableBufferPointer { cp in
                        let f = reference ? tv_mlp_gemm_reference : tv_mlp_gemm
                        f(c.transA ? 1 : 0, c.transB ? 1 : 0, c.m, c.n, c.k, a.baseAddress!, o.lda, b.baseAddress!, o.ldb,
                          c.bias ? bias.baseAddress! : nil, c.accumulate ? 1 : 0, cp.baseAddress!, o.ldc)
                    }
                }
            }
        }
        return out
    }

    /// The product in Double, and the sum of |terms| per element (the scale of its rounding error).
    static func oracle(_ c: Case, _ o: Operands) -> (value: [Double], magnitude: [Double]) {
        var value = [Double](repeating: 0, count: c.m * c.n), magnitude = value
        for i in 0..<c.m {
            for j in 0..<c.n {
                var s = (c.accumulate ? Double(o.c[i * o.ldc + j]) : 0) + (c.bias ? Double(o.bias[j]) : 0)
                var mag = abs(s)
                for p in 0..<c.k {
                    let a = Double(c.transA ? o.a[p * o.lda + i] : o.a[i * o.lda + p])
                    let b = Double(c.transB ? o.b[j * o.ldb + p] : o.b[p * o.ldb + j])
                    s += a * b
                    mag += abs(a * b)
                }
                value[i * c.n + j] = s
                magnitude[i * c.n + j] = mag
            }
        }
        return (value, magnitude)
    }

    static var cases: [Case] {
        var cs: [Case] = []
        let shapes = [(1, 1, 1), (5, 7, 3), (6, 16, 8), (8, 32, 8), (7, 17, 9), (13, 33, 40), (64, 64, 64),
                      (37, 100, 300), (9, 40, 513)]
        for (m, n, k) in shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    for (bias, accumulate) in [(false, false), (true, false), (false, true), (true, true)] {
                        cs.append(Case(transA: transA, transB: transB, m: m, n: n, k: k, bias: bias, accumulate: accumulate))
                    }
                }
            }
        }
        cs.append(Case(transA: false, transB: true, m: 3, n: 4, k: 0, bias: true, accumulate: true))
        cs.append(Case(transA: false, transB: false, m: 3, n: 4, k: 0, bias: false, accumulate: false))
        return cs
    }

    func forEachWidth(_ body: () throws -> Void) rethrows {
        defer { tv_allow_avx512(1) }
        for allowed: Int32 in [1, 0] {
            tv_allow_avx512(allowed)
            try body()
        }
    }

    func testMatchesDoublePrecisionProduct() {
        forEachWidth {
            for (n, c) in Self.cases.enumerated() {
                let o = Self.operands(c, seed: UInt64(n) * 7)
                let got = Self.run(c, o)
                let (want, magnitude) = Self.oracle(c, o)
                var worst = 0.0
                for i in 0..<c.m {
                    for j in 0..<c.n {
                        let err = abs(Double(got[i * o.ldc + j]) - want[i * c.n + j])
                        // float rounding of a k-term chain: within (k + 2) ulp-sized steps of the scale.
                        worst = max(worst, err / (Double(c.k + 2) * 1.2e-7 * max(magnitude[i * c.n + j], 1e-30)))
                    }
                    // Padding between rows is never written.
                    for j in c.n..<o.ldc { XCTAssertEqual(got[i * o.ldc + j], o.c[i * o.ldc + j], "\(c) wrote past row \(i)") }
                }
                XCTAssertLessThanOrEqual(worst, 1, "\(c) (avx512 \(tv_use_avx512()))")
            }
        }
    }

    /// Same bits as the scalar loops in the same order, at both widths (so AVX2-only and AVX-512
    /// CPUs train the same weights).
    func testSameBitsAsScalarReferenceAtBothWidths() {
        for (n, c) in Self.cases.enumerated() {
            let o = Self.operands(c, seed: UInt64(n) * 11)
            let reference = Self.run(c, o, reference: true).map(\.bitPattern)
            forEachWidth {
                XCTAssertEqual(Self.run(c, o).map(\.bitPattern), reference, "\(c) (avx512 \(tv_use_avx512()))")
            }
        }
    }

    /// Each row alone gives the bits it gives inside the batch (data-parallel halves rely on it).
    func testRowsDoNotDependOnTheBatch() {
        let c = Case(transA: false, transB: true, m: 29, n: 70, k: 90, bias: true, accumulate: false, pad: 0)
        let o = Self.operands(c, seed: 5)
        let whole = Self.run(c, o)
        for split in [1, 6, 8, 13] {
            var top = o, bottom = o
            top.a = Array(o.a[..<(split * o.lda)]); top.c = Array(o.c[..<(split * o.ldc)])
            bottom.a = Array(o.a[(split * o.lda)...]); bottom.c = Array(o.c[(split * o.ldc)...])
            var ct = c, cb = c
            ct.m = split; cb.m = c.m - split
            XCTAssertEqual((Self.run(ct, top) + Self.run(cb, bottom)).map(\.bitPattern), whole.map(\.bitPattern), "split at \(split)")
        }
    }

    func testConcurrentCallersGetTheirOwnResults() {
        let shapes = [Case(transA: false, transB: true, m: 64, n: 96, k: 80, bias: true, accumulate: false),
                      Case(transA: true, transB: false, m: 40, n: 48, k: 300, bias: false, accumulate: false),
                      Case(transA: false, transB: false, m: 33, n: 130, k: 20, bias: false, accumulate: true)]
        let inputs = shapes.enumerated().map { Self.operands($1, seed: UInt64($0) + 40) }
        let expected = zip(shapes, inputs).map { Self.run($0, $1) }
        let mismatches = ResultSlots<Int>(count: 8)
        DispatchQueue.concurrentPerform(iterations: 8) { w in
            var bad = 0
            for r in 0..<20 {
                let i = (w + r) % shapes.count
                if Self.run(shapes[i], inputs[i]) != expected[i] { bad += 1 }
            }
            mismatches.set(w, bad)
        }
        XCTAssertEqual(mismatches.values, Array(repeating: 0, count: 8))
    }

    /// The MLP's whole forward pass: two halves of a batch give the bits of the whole batch, so
    /// the data-parallel evaluation changes no reported number.
    func testMLPForwardHalvesEqualWholeBatch() {
        let c = ModelConfig(hiddenWidth: 24, blocks: 2, timeEmbedding: 8, projections: true,
                            timeConditioning: .perBlock, blockNorm: .layer)
        let model = MLPDenoiser(config: c, seed: 3)
        let b = TestModels.batch(c, size: 11, seed: 4)
        let whole = model.predictEpsilon(x: b.x0, t: b.t)
        let halves = DataParallelDenoiser(model).predictEpsilon(x: b.x0, t: b.t)
        XCTAssertEqual(halves.map(\.bitPattern), whole.map(\.bitPattern))
    }
}

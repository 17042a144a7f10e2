import CKernels
import Foundation
import XCTest
@testable import TVTrainer

/// A lent thread (ThreadLending; CKernels' lent_threads.h) takes half of the tiled products'
/// columns and half of the AdamW pass: results keep the bits they have without it (the DeMe
/// report's numbers must not depend on whether a finetune ran alone at the end).
final class ThreadLendingTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(tv_mlp_gemm_available() != 0, "no AVX2+FMA: products are not split")
    }

    /// Runs `body` while another thread is lent; returns how many tasks that thread ran.
    func whileLent(_ body: () -> Void) -> Int {
        let lending = ThreadLending()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread { lending.lend(); done.signal() }
        while tv_lent_threads_waiting() == 0 { usleep(100) }
        let before = tv_lent_tasks_run()
        body()
        lending.stop()
        done.wait()
        return tv_lent_tasks_run() - before
    }

    func testProductsKeepTheirBitsWithALentThread() {
        let cases = MatrixProductTests.cases + [
            MatrixProductTests.Case(transA: false, transB: true, m: 128, n: 256, k: 256, bias: true, accumulate: false),
            MatrixProductTests.Case(transA: true, transB: false, m: 256, n: 256, k: 128, bias: false, accumulate: false),
            MatrixProductTests.Case(transA: false, transB: false, m: 128, n: 64, k: 256, bias: true, accumulate: true),
        ]
        let inputs = cases.enumerated().map { MatrixProductTests.operands($1, seed: UInt64($0) * 13) }
        let reference = zip(cases, inputs).map { MatrixProductTests.run($0, $1, reference: true).map(\.bitPattern) }
        var taken = 0
        // A loaded machine may not run the lent thread at first (the caller then takes its half
        // back): repeat until it has run some.
        for round in 0..<50 where taken == 0 || round == 0 {
            taken += whileLent {
                for allowed: Int32 in [1, 0] {
                    tv_allow_avx512(allowed)
                    for (i, c) in cases.enumerated() {
                        XCTAssertEqual(MatrixProductTests.run(c, inputs[i]).map(\.bitPattern), reference[i], "\(c) (avx512 \(allowed))")
                    }
                }
                tv_allow_avx512(1)
            }
        }
        XCTAssertGreaterThan(taken, 0, "the lent thread never ran a part")
    }

    func testAdamWKeepsItsBitsWithALentThread() {
        let n = 100_003
        let g = MatrixProductTests.values(n, seed: 3)
        func run() -> [[Float]] {
            let p = FloatBuffer(MatrixProductTests.values(n, seed: 1)), grads = FloatBuffer(g)
            let shadow = FloatBuffer(MatrixProductTests.values(n, seed: 2))
            let adam = AdamW(parameterCount: n, settings: .deme)
            for _ in 0..<3 { adam.update(params: p, grads: grads, lr: 1e-3, gradientScale: 0.5, ema: (shadow, 0.99)) }
            return [p.array, adam.m.array, adam.v.array, shadow.array]
        }
        let alone = run()
        var taken = 0
        for round in 0..<50 where taken == 0 || round == 0 {
            taken += whileLent { XCTAssertEqual(run().map { $0.map(\.bitPattern) }, alone.map { $0.map(\.bitPattern) }) }
        }
        XCTAssertGreaterThan(taken, 0, "the lent thread never ran a part")
    }

    /// Stopping a lent thread that never got work returns it (no hang).
    func testStopReturnsAnIdleLentThread() {
        XCTAssertEqual(whileLent {}, 0)
        XCTAssertEqual(tv_lent_threads_waiting(), 0)
    }
}

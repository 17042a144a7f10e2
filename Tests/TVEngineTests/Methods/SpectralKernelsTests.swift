import XCTest
import TVStorage
@testable import TVEngine

/// The Gram-matrix path of the SVD merges (SpectralKernels) against their dgesdd path
/// (`forceSVD`), which the numpy-oracle tests (WholeTensorMethodTests) pin down: well and badly
/// conditioned, rank-deficient, wide, tall and square matrices, then whole merges whose tasks are
/// ill-conditioned or share directions. Where the Gram path is taken it must agree to 1e-9
/// relative; where it would not be accurate it must not be taken.
final class SpectralKernelsTests: XCTestCase {
    override func tearDown() {
        SpectralKernels.forceSVD = false
        super.tearDown()
    }

    /// rows × columns (column-major) = Q1 diag(s) Q2ᵀ, random orthonormal Q1, Q2, s geometric
    /// from 1 down to 1/kappa over the first `rank` values (default all), exactly 0 after.
    static func matrix(rows: Int, columns: Int, kappa: Double, rank: Int? = nil, seed: UInt64) -> ScratchMatrix {
        let p = min(rows, columns), r = rank ?? p
        let q1 = orthonormal(rows, p, seed: seed), q2 = orthonormal(columns, p, seed: seed + 1)
        let s = (0..<p).map { $0 < r ? (r == 1 ? 1 : pow(1 / kappa, Double($0) / Double(r - 1))) : 0 }
        let out = ScratchMatrix(rows: rows, columns: columns)
        for c in 0..<columns {
            for i in 0..<rows {
                var v = 0.0
                for j in 0..<p { v += q1[j * rows + i] * s[j] * q2[j * columns + c] }
                out.base[c * rows + i] = v
            }
        }
        return out
    }

    /// n × k with orthonormal columns (modified Gram-Schmidt, twice, on uniform noise).
    static func orthonormal(_ n: Int, _ k: Int, seed: UInt64) -> [Double] {
        var q = (0..<(n * k)).map { Double(CounterRandom.uniform(key: seed, index: $0)) - 0.5 }
        for j in 0..<k {
            for _ in 0..<2 {
                for i in 0..<j {
                    var d = 0.0
                    for r in 0..<n { d += q[i * n + r] * q[j * n + r] }
                    for r in 0..<n { q[j * n + r] -= d * q[i * n + r] }
                }
            }
            var norm = 0.0
            for r in 0..<n { norm += q[j * n + r] * q[j * n + r] }
            for r in 0..<n { q[j * n + r] /= norm.squareRoot() }
        }
        return q
    }

    static func maxDifference(_ a: MatrixView, _ b: MatrixView) -> (diff: Double, scale: Double) {
        var diff = 0.0, scale = 0.0
        for j in 0..<a.count {
            diff = max(diff, abs(a.base[j] - b.base[j]))
            scale = max(scale, abs(b.base[j]))
        }
        return (diff, scale)
    }

    static let shapes = [(40, 120), (150, 30), (50, 50)]

    func testPolarMatchesTheSVDPathAndRefusesIllConditionedMatrices() throws {
        for (rows, columns) in Self.shapes {
            for (kappa, rank, gram) in [(1.0, nil, true), (1e2, nil, true), (3e3, nil, true),
                                        (3e4, nil, false), (1e8, nil, false), (10, 7, false)] as [(Double, Int?, Bool)] {
                let x = Self.matrix(rows: rows, columns: columns, kappa: kappa, rank: rank, seed: 11)
                let label = "\(rows)x\(columns) kappa \(kappa) rank \(rank ?? min(rows, columns))"
                let fast = try SpectralKernels.polar(x.view, workers: 2, tensor: "x")
                SpectralKernels.forceSVD = true
                let reference = try SpectralKernels.polar(x.view, workers: 2, tensor: "x")
                SpectralKernels.forceSVD = false
                XCTAssertEqual(fast.viaGram, gram, label)
                XCTAssertFalse(reference.viaGram, label)
                guard rank == nil else { continue }  // rank-deficient: both are dgesdd's completion
                let (diff, scale) = Self.maxDifference(fast.factor.view, reference.factor.view)
                XCTAssertLessThanOrEqual(diff, 1e-9 * scale, label)
                for (a, b) in zip(fast.s, reference.s) { XCTAssertEqual(a, b, accuracy: 1e-9 * reference.s[0], label) }
            }
        }
    }

    func testTopTripletsMatchTheSVDPath() throws {
        for (rows, columns) in Self.shapes {
            let p = min(rows, columns), k = p / 4
            // rank p/2: the kept quarter is well conditioned although the matrix is singular.
            for (kappa, rank, gram) in [(10.0, nil, true), (1e3, nil, true), (1e3, p / 2, true),
                                        (1e24, nil, false), (10, k - 2, false)] as [(Double, Int?, Bool)] {
                let x = Self.matrix(rows: rows, columns: columns, kappa: kappa, rank: rank, seed: 5)
                let label = "\(rows)x\(columns) kappa \(kappa) rank \(rank ?? p)"
                let fast = try SpectralKernels.topTriplets(x.view, k, workers: 2, tensor: "x")
                SpectralKernels.forceSVD = true
                let reference = try SpectralKernels.topTriplets(x.view, k, workers: 2, tensor: "x")
                SpectralKernels.forceSVD = false
                XCTAssertEqual(fast.viaGram, gram, label)
                for (a, b) in zip(fast.s, reference.s) { XCTAssertEqual(a, b, accuracy: 1e-12, label) }
                // U diag(s) Vᵀ (the vectors' signs are arbitrary, the rank-k part is not).
                let product = { (t: SpectralKernels.Triplets) -> ScratchMatrix in
                    let us = ScratchMatrix(rows: rows, columns: k)
                    for j in 0..<k { for i in 0..<rows { us.base[j * rows + i] = t.u.base[j * rows + i] * t.s[j] } }
                    let out = ScratchMatrix(rows: rows, columns: columns)
                    SpectralKernels.product(us.view, t.v.view, transposeB: true, into: out.view, workers: 1)
                    return out
                }
                let (diff, scale) = Self.maxDifference(product(fast).view, product(reference).view)
                XCTAssertLessThanOrEqual(diff, 1e-9 * scale, label)
            }
        }
    }

    /// Base + 4 tasks per tensor (2-D wide and tall, conv): one well conditioned, one with
    /// kappa 1e6, one of rank 2 (singular values 1 and 0.1: a tie at the cut would leave any SVD's
    /// choice arbitrary), one nearly a copy of the first (TSV's and Iso-CTS's stacked
    /// singular vectors then overlap). Gram path (where accurate) vs dgesdd throughout, in f64.
    func testMergesMatchTheirSVDPathOnIllConditionedTasks() throws {
        let shapes: [(String, [Int])] = [("wide", [24, 70]), ("tall", [66, 20]), ("conv", [12, 4, 3, 3]), ("rank 2 < 4 tasks", [2, 3])]
        var baseTensors: [(String, Tensor)] = []
        var models: [[(String, Tensor)]] = Array(repeating: [], count: 4)
        for (t, (name, shape)) in shapes.enumerated() {
            let rows = shape[0], columns = shape.dropFirst().reduce(1, *)
            let base = randomFloats(rows * columns, seed: UInt64(100 + t)).map(Double.init)
            baseTensors.append((name, try Tensor.fromDoubles(base, shape: shape)))
            let first = Self.matrix(rows: columns, columns: rows, kappa: 10, seed: UInt64(200 + t))
            let taus = [first,
                        Self.matrix(rows: columns, columns: rows, kappa: 1e6, seed: UInt64(300 + t)),
                        Self.matrix(rows: columns, columns: rows, kappa: 10, rank: 2, seed: UInt64(400 + t)),
                        first]
            for (i, tau) in taus.enumerated() {
                let nudge = i == 3 ? randomFloats(tau.count, seed: UInt64(500 + t), scale: 1e-3).map(Double.init) : Array(repeating: 0, count: tau.count)
                let values = (0..<tau.count).map { base[$0] + 0.1 * tau.base[$0] + nudge[$0] }
                models[i].append((name, try Tensor.fromDoubles(values, shape: shape)))
            }
        }
        let inputs = MergeInputs(base: MemoryReader("base", baseTensors), models: models.enumerated().map { MemoryReader("m\($0.offset)", $0.element) })
        var options = MergeOptions()
        options.progress = false
        options.precision = .f64
        options.outDType = .f64
        for method in ["tsv", "iso_c", "iso_cts"] {
            let fast = try merge(method, inputs, options)
            SpectralKernels.forceSVD = true
            let reference = try merge(method, inputs, options)
            SpectralKernels.forceSVD = false
            for (name, _) in shapes {
                let a = try fast.written[name]!.doubles(), b = try reference.written[name]!.doubles()
                let base = try baseTensors.first { $0.0 == name }!.1.doubles()
                let scale = zip(b, base).map { abs($0 - $1) }.max()!
                let diff = zip(a, b).map { abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(diff, 1e-9 * scale, "\(method) \(name)")
            }
        }
    }

    func merge(_ method: String, _ inputs: MergeInputs, _ options: MergeOptions) throws -> MemoryWriter {
        let box = WriterBox()
        _ = try Merger.merge(method: try MergeMethods.named(method), inputs: inputs, parameters: MergeParameters(), options: options, writer: box.factory)
        return box.writer!
    }

    func testScratchPoolKeepsNoMoreBuffersThanWereInUseAtOnce() {
        let pool = DenseScratchPool()
        var held = [(1000, 0), (5000, 0)].map { pool.take($0.0) }
        for h in held { pool.giveBack(h.0, capacity: h.1) }
        // A larger request releases the largest free buffer that does not fit.
        held = [pool.take(20000)]
        XCTAssertEqual(pool.freeCapacities, [1000])
        // A smaller one takes the smallest that fits.
        let small = pool.take(800)
        XCTAssertEqual(small.1, 1000)
        pool.giveBack(small.0, capacity: small.1)
        for h in held { pool.giveBack(h.0, capacity: h.1) }
        XCTAssertEqual(pool.freeCapacities.sorted(), [1000, 20000])
        pool.drain()
    }
}

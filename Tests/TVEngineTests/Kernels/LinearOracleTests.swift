import Foundation
import XCTest
import TVStorage
@testable import TVEngine

/// The linear combination core (fused kernel, chunked loop, flat buffers) against the float64
/// oracle in `LinearOracle`, rounded once: not one element may differ, for every dtype mix, base
/// scale, missing model and inf/NaN case.
final class LinearOracleTests: XCTestCase {
    /// Sizes around the kernel's 8-wide vectors and 512-value strips, and the chunk size.
    static let sizes = [1, 7, 9, 511, 513, 4099]
    static let plans: [(scale: Double, c: [Double])] = [
        (1, [0.1, 0.1, 0.2, 0.5]), (0.3, [0.7, 0, -1.25, 0.5]), (0, [1, 1, 1, 1]), (1, [0, 0, 0, 0]), (1, [1e-3, 3, -0.5, 0.25]),
    ]

    struct Case {
        var base: MemoryReader
        var models: [MemoryReader]
        var isTaskVector: [Bool]
    }

    /// A base and four models of mixed dtypes; the third model lacks tensor t2.
    func makeCase(_ regime: OracleData.Regime, baseType: DType, modelTypes: [DType], isTaskVector: [Bool], sizes: [Int] = sizes) -> Case {
        var base: [(String, Tensor)] = [], models = [[(String, Tensor)]](repeating: [], count: 4)
        for (t, n) in sizes.enumerated() {
            let b = OracleData.base(n, seed: UInt64(t * 10), regime: regime)
            base.append(("t\(t)", tensor(b, [n], baseType)))
            for k in 0..<4 where !(k == 2 && t == 2) {
                // A task vector input holds the (small) difference itself.
                var m = OracleData.model(of: b, seed: UInt64(t * 10 + k + 1), regime: regime)
                if isTaskVector[k] { m = zip(m, b).map { $0 - $1 } }
                models[k].append(("t\(t)", tensor(m, [n], modelTypes[k])))
            }
        }
        return Case(base: MemoryReader("base", base), models: models.enumerated().map { MemoryReader("m\($0.offset)", $0.element) },
                    isTaskVector: isTaskVector)
    }

    func merge(_ c: Case, scale: Double, coefficients: [Double], out: DType, fused: Bool, precision: ComputePrecision) throws -> MemoryWriter {
        var o = MergeOptions()
        o.progress = false
        o.fusedKernels = fused
        o.outDType = out
        o.keys = .union
        o.precision = precision
        o.allowNonFinite = true  // the inputs hold inf/NaN on purpose
        o.workers = 2
        let box = WriterBox()
        let inputs = MergeInputs(base: c.base, models: c.models, modelIsTaskVector: c.isTaskVector)
        _ = try StreamingMerge(inputs: inputs, options: o).run(recipe: [:], planner: { _ in .linear(baseScale: scale, coefficients: coefficients) },
                                                               writer: box.factory)
        return box.writer!
    }

    /// Elements of `written` that differ from the oracle, with a description of the first few.
    func mismatches(_ written: MemoryWriter, _ c: Case, scale: Double, coefficients: [Double], out: DType, f32: Bool) throws -> (Int, Int, [String]) {
        var bad = 0, total = 0, examples: [String] = []
        for info in c.base.tensors {
            let b = try c.base.tensor(named: info.name).doubles()
            let ms = try c.models.map { m in m.tensors.contains { $0.name == info.name } ? try m.tensor(named: info.name).doubles() : nil }
            let got = try written.written[info.name]!.doubles()
            for j in 0..<b.count {
                let want = LinearOracle.element(base: b[j], models: ms.map { $0?[j] }, isTaskVector: c.isTaskVector,
                                                coefficients: coefficients, baseScale: scale, f32: f32, output: out)
                total += 1
                if !LinearOracle.same(got[j], want) {
                    bad += 1
                    if examples.count < 3 { examples.append("\(info.name)[\(j)]: got \(got[j]), oracle \(want)") }
                }
            }
        }
        return (bad, total, examples)
    }

    func testEveryDtypeScaleMissingModelAndSpecialValueMatchesTheOracle() throws {
        let types: [DType] = [.f16, .bf16, .f32]
        for regime in [OracleData.Regime.sdLike, .wide] {
            for (k, baseType) in types.enumerated() {
                let modelTypes = (0..<4).map { types[($0 + k) % 3] }
                for tv in [[false, false, false, false], [true, false, true, false]] {
                    let c = makeCase(regime, baseType: baseType, modelTypes: modelTypes, isTaskVector: tv)
                    for plan in Self.plans {
                        for out in types {
                            for (fused, precision) in [(true, ComputePrecision.f32), (false, .f32), (false, .f64)] {
                                let w = try merge(c, scale: plan.scale, coefficients: plan.c, out: out, fused: fused, precision: precision)
                                let (bad, _, examples) = try mismatches(w, c, scale: plan.scale, coefficients: plan.c, out: out, f32: precision == .f32)
                                XCTAssertEqual(bad, 0, "\(regime) base \(baseType) models \(modelTypes) tv \(tv) plan \(plan) out \(out) fused \(fused) \(precision): \(examples)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// DeMe's merge of an SD-like F16 model (weights 0.1, 0.1, 0.2, 0.5): zero elements off the
    /// torch-order oracle on either path. Against the exact value (F64, rounded once) F32 compute
    /// is off on a few elements in 10^5, as torch itself is; F64 compute on none.
    func testSDShapedF16MergeHasNoElementOffByOneULP() throws {
        let c = makeCase(.sdLike, baseType: .f16, modelTypes: [.f16, .f16, .f16, .f16], isTaskVector: [false, false, false, false],
                         sizes: [300_000])
        let w = [0.1, 0.1, 0.2, 0.5]
        for fused in [true, false] {
            let out = try merge(c, scale: 1, coefficients: w, out: .f16, fused: fused, precision: .f32)
            let (bad, total, examples) = try mismatches(out, c, scale: 1, coefficients: w, out: .f16, f32: true)
            XCTAssertEqual(bad, 0, "fused \(fused): \(bad) of \(total) off the torch-order oracle: \(examples)")
            let (inexact, _, _) = try mismatches(out, c, scale: 1, coefficients: w, out: .f16, f32: false)
            XCTAssertLessThan(Double(inexact) / Double(total), 1e-3, "fused \(fused): F32 compute vs the exact F64 value")
        }
        let f64 = try merge(c, scale: 1, coefficients: w, out: .f16, fused: false, precision: .f64)
        let (bad, total, examples) = try mismatches(f64, c, scale: 1, coefficients: w, out: .f16, f32: false)
        XCTAssertEqual(bad, 0, "F64 compute: \(bad) of \(total) off the F64 oracle rounded once: \(examples)")
    }

    func testFlatBuffersMatchTheOracleOnBothPaths() throws {
        for regime in [OracleData.Regime.sdLike, .wide] {
            let n = 4099
            let b = OracleData.base(n, seed: 5, regime: regime)
            let ms = (0..<4).map { OracleData.model(of: b, seed: UInt64(6 + $0), regime: regime) }
            for plan in Self.plans {
                for tv in [false, true] {
                    for fused in [true, false] {
                        var combination = LinearCombination(baseScale: plan.scale, coefficients: plan.c)
                        combination.fusedKernels = fused
                        var out = [Float](repeating: 0, count: n)
                        b.withUnsafeBufferPointer { bp in
                            ms[0].withUnsafeBufferPointer { m0 in ms[1].withUnsafeBufferPointer { m1 in
                                ms[2].withUnsafeBufferPointer { m2 in ms[3].withUnsafeBufferPointer { m3 in
                                    out.withUnsafeMutableBufferPointer { o in
                                        combination.compute(base: bp, models: [m0, m1, m2, m3], modelsAreTaskVectors: tv, into: o)
                                    }
                                } }
                            } }
                        }
                        var bad = 0
                        for j in 0..<n {
                            let want = LinearOracle.element(base: Double(b[j]), models: ms.map { Double($0[j]) }, isTaskVector: [tv, tv, tv, tv],
                                                            coefficients: plan.c, baseScale: plan.scale, f32: true, output: .f32)
                            if !LinearOracle.same(Double(out[j]), want) { bad += 1 }
                        }
                        XCTAssertEqual(bad, 0, "\(regime) \(plan) task vectors \(tv) fused \(fused)")
                    }
                }
            }
        }
    }

    func testOracleRoundingAgreesWithTheStorageCodecs() {
        // The oracle's power-of-two rounding against the bit-exact F16/BF16 encoders on Floats.
        for f in OracleData.wide(20_000, seed: 3) + OracleData.base(20_000, seed: 4, regime: .sdLike) {
            let d = Double(f)
            XCTAssertTrue(LinearOracle.same(LinearOracle.roundOnce(d, to: .f16), Double(HalfFloat.f16ToF32(HalfFloat.f32ToF16(f)))), "\(f)")
            XCTAssertTrue(LinearOracle.same(LinearOracle.roundOnce(d, to: .bf16), Double(HalfFloat.bf16ToF32(HalfFloat.f32ToBF16(f)))), "\(f)")
        }
    }
}

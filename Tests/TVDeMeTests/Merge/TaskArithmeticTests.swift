import Foundation
import XCTest
import TVEngine
import TVStorage
@testable import TVDeMe

final class TaskArithmeticTests: XCTestCase {
    private func set(_ a: [Float], _ b: [Float]) throws -> ParameterSet {
        try ParameterSet(names: ["w", "b"], shapes: [[2, 2], [2]], values: [a, b])
    }

    func testZeroWeightsGiveTheBaseBitForBit() throws {
        let base = try set([0.1, -0.2, 0.3, 1e-8], [7, -0])
        let ft1 = try set([0.5, 0.5, 0.5, 0.5], [1, 2])
        let ft2 = try set([-3, 2, 1e6, 0], [0, 0])
        let m = try TaskArithmetic(base: base, finetuned: [ft1, ft2]).merged(weights: [0, 0])
        for i in 0..<2 {
            XCTAssertEqual(m.values[i].map(\.bitPattern), base.values[i].map(\.bitPattern))
        }
    }

    func testUnitWeightGivesTheFinetunedModelAndSumsAreLinear() throws {
        let base = try set([1, 2, 3, 4], [0, 1])
        let ft1 = try set([2, 2, 2, 2], [1, 1])
        let ft2 = try set([0, 4, 3, 8], [0, 3])
        let ta = try TaskArithmetic(base: base, finetuned: [ft1, ft2])
        XCTAssertEqual(try ta.merged(weights: [1, 0]), ft1)
        XCTAssertEqual(try ta.merged(weights: [0, 1]), ft2)
        // theta + 0.5 tau1 + 0.25 tau2, computed by hand.
        let m = try ta.merged(weights: [0.5, 0.25])
        XCTAssertEqual(m.values[0], [1.25, 2.5, 2.5, 4.0])
        XCTAssertEqual(m.values[1], [0.5, 1.5])
        // Reusing a buffer gives the same result.
        var buf = base
        try ta.merge(weights: [0.5, 0.25], into: &buf)
        XCTAssertEqual(buf, m)
    }

    func testLayoutMismatchNamesTheTensor() throws {
        let base = try set([1, 2, 3, 4], [0, 1])
        let other = try ParameterSet(names: ["w", "b"], shapes: [[4], [2]], values: [[1, 2, 3, 4], [0, 1]])
        XCTAssertThrowsError(try TaskArithmetic(base: base, finetuned: [other], paths: ["ft.safetensors"])) { e in
            XCTAssertTrue("\(e)".contains("ft.safetensors") && "\(e)".contains("'w'"), "\(e)")
        }
        XCTAssertThrowsError(try TaskArithmetic(base: base, finetuned: [base]).merged(weights: [1, 2]))
    }

    /// The search's in-memory candidate is DeMe's torch computation in F32 (tau_i = theta_i - theta,
    /// acc = sum of w_i * tau_i in model order, theta + acc), and bit for bit the file `tvtool merge`
    /// writes from the same checkpoints: the pipeline writes its model once, through the engine.
    func testInMemoryMergeIsTorchOrderAndTheEnginesFileMerge() throws {
        func values(_ n: Int, _ seed: UInt64, _ around: [Float]? = nil) -> [Float] {
            var state = seed
            return (0..<n).map { i in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let u = Float(state >> 40) * 0x1p-24 * 2 - 1
                return around.map { $0[i] + u * 0.004 } ?? u * 0.1
            }
        }
        let n = 70_001
        let b = values(n, 1)
        let fts = (2...5).map { values(n, UInt64($0), b) }
        let names = ["w", "b"], shapes = [[n - 1], [1]]
        func split(_ v: [Float]) throws -> ParameterSet { try ParameterSet(names: names, shapes: shapes, values: [Array(v[0..<(n - 1)]), [v[n - 1]]]) }
        let weights = [0.1, 0.1, 0.2, 0.5]
        let merged = try TaskArithmetic(base: try split(b), finetuned: try fts.map(split)).merged(weights: weights)
        let flat = merged.values[0] + merged.values[1]
        // The oracle: plain Float loops in torch's order.
        var mismatches = 0
        for j in 0..<n {
            var acc = Float(weights[0]) * (fts[0][j] - b[j])
            for k in 1..<4 { acc = acc + Float(weights[k]) * (fts[k][j] - b[j]) }
            if (b[j] + acc).bitPattern != flat[j].bitPattern { mismatches += 1 }
        }
        XCTAssertEqual(mismatches, 0)

        let dir = TestPaths.scratchDirectory("deme-merge")
        defer { try? FileManager.default.removeItem(at: dir) }
        var paths: [String] = []
        for (k, v) in ([b] + fts).enumerated() {
            let path = dir.appendingPathComponent("m\(k).safetensors").path
            let set = try split(v)
            let w = try SafetensorsWriter(path: path, tensors: try set.tensors().map { $0.tensor.info(name: $0.name) }, metadata: [:])
            for (name, t) in try set.tensors() { try w.write(t, named: name) }
            try w.finish()
            paths.append(path)
        }
        let out = dir.appendingPathComponent("merged.safetensors").path
        var options = MergeOptions()
        options.progress = false
        _ = try Merger.merge(method: try MergeMethods.named("task_arithmetic"), inputs: try MergeInputs.open(base: paths[0], models: Array(paths.dropFirst())),
                             parameters: MergeParameters(global: ["weight": .perModel(weights)]), options: options, output: out)
        let file = try Checkpoints.open(out)
        for (i, name) in names.enumerated() {
            XCTAssertEqual(try file.tensor(named: name).floats().map(\.bitPattern), merged.values[i].map(\.bitPattern), name)
        }
    }
}

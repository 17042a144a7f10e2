import Foundation
import TVStorage
import XCTest
@testable import TVSweep

/// `search --per-block` from Swift: per-block candidates against an independent Float64 oracle of
/// theta + Σ_i Σ_g w_ig tau_i|g, a search whose optimum is known by construction (in memory and
/// through an --eval-cmd whose quadratic objective numpy computes from each candidate file), and
/// the engine-written best checkpoint against the same oracle.
final class PerBlockSearchTests: XCTestCase {
    // Two groups (top scheme, in the file's tensor order: "dec", "enc"), two models. Model a moves only element 0 of each
    // tensor and model b only element 1, so the quadratic objective below separates per axis.
    let base: [String: [Float]] = ["enc.w": [0.5, -1, 2, 0.25, 0, 1], "dec.w": [1, 2, -0.5, 3]]
    let tauA: [String: [Float]] = ["enc.w": [1, 0, 0, 0, 0, 0], "dec.w": [-2, 0, 0, 0]]
    let tauB: [String: [Float]] = ["enc.w": [0, 0.5, 0, 0, 0, 0], "dec.w": [0, 4, 0, 0]]
    let shapes = ["enc.w": [2, 3], "dec.w": [4]]
    /// The optimum, model-major: w_a_dec, w_a_enc, w_b_dec, w_b_enc (on the 0:1:5 grid, off its centre).
    let optimum = [0.25, 1.0, 0.75, 0.0]

    private func files(_ dir: URL) throws -> (String, String, String) {
        func write(_ name: String, _ tau: [String: [Float]]?) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try TinyCheckpoints.write(path, ["enc.w", "dec.w"].map { n in
                (n, zip(base[n]!, tau?[n] ?? base[n]!.map { _ in 0 }).map { $0 + $1 }, shapes[n]!)
            })
            return path
        }
        return (try write("base.safetensors", nil), try write("a.safetensors", tauA), try write("b.safetensors", tauB))
    }

    /// base + Σ w tau in Float64 from the raw arrays, per tensor; groups dec = 0, enc = 1.
    private func oracle(_ w: [Double]) -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        for (g, n) in ["dec.w", "enc.w"].enumerated() {
            out[n] = base[n]!.indices.map { j in Double(base[n]![j]) + w[g] * Double(tauA[n]![j]) + w[2 + g] * Double(tauB[n]![j]) }
        }
        return out
    }

    private func assertMatchesOracle(_ tensors: [String: [Float]], _ w: [Double], file: StaticString = #filePath, line: UInt = #line) {
        let expected = oracle(w)
        for (n, values) in expected {
            XCTAssertEqual(tensors[n]?.count, values.count, n, file: file, line: line)
            for (x, y) in zip(tensors[n] ?? [], values) { XCTAssertEqual(Double(x), y, accuracy: 1e-6, n, file: file, line: line) }
        }
    }

    func testCandidatesAndTheBestFileMatchTheOracle() throws {
        let dir = TestPaths.scratchDirectory("per-block-oracle")
        let (b, a, c) = try files(dir)
        let family = try WeightSearch.prepare(base: b, models: [a, c], blockGroups: "top")
        XCTAssertEqual(WeightSearch.axisNames(family: family), ["w1_dec", "w1_enc", "w2_dec", "w2_enc"])
        let w = [0.3, -0.7, 1.25, 0.5]
        assertMatchesOracle(try family.materialize(at: w).mapValues { try $0.floats() }, w)
        // The streamed candidate (what --eval-cmd reads) and the engine's rule-based merge.
        let candidate = dir.appendingPathComponent("cand.safetensors").path
        try family.write(at: w, to: candidate)
        let merged = dir.appendingPathComponent("merged.safetensors").path
        try WeightSearch.writeMerged(weights: w, family: family, to: merged)
        for path in [candidate, merged] {
            let r = try Checkpoints.open(path)
            assertMatchesOracle(Dictionary(uniqueKeysWithValues: try r.tensors.map { ($0.name, try r.tensor(named: $0.name).floats()) }), w)
        }
    }

    /// Σ over tensors of ||theta(w) - theta(w*)||^2, minimised exactly at w* (a grid point).
    private static func quadratic(_ tensors: [String: [Float]], target: [String: [Double]]) -> Double {
        var total = 0.0
        for (name, t) in target {
            let x = tensors[name] ?? []
            for j in t.indices {
                let d = Double(x[j]) - t[j]
                total += d * d
            }
        }
        return total
    }

    func testInMemorySearchFindsTheKnownOptimumAndNamesItsAxes() throws {
        let dir = TestPaths.scratchDirectory("per-block-search")
        let (b, a, c) = try files(dir)
        let family = try WeightSearch.prepare(base: b, models: [a, c], blockGroups: "top")
        let names = WeightSearch.axisNames(family: family)
        let target = oracle(optimum)
        let evaluator = ClosureEvaluator(summary: "quadratic") { p in
            Self.quadratic(try family.materialize(at: p.coordinates).mapValues { try $0.floats() }, target: target)
        }
        for (strategy, maxEvals) in [(SearchStrategy.coord, nil), (.grid, nil)] as [(SearchStrategy, Int?)] {
            let out = dir.appendingPathComponent(strategy.rawValue).path
            let manifest = WeightSearch.manifest(grid: try GridSpec.parse(["0:1:5"], dimensions: 4), strategy: strategy, maxEvals: maxEvals,
                                                 inputs: [b, a, c], evaluator: evaluator.summary, axisNames: names)
            let outcome = try SweepSession.run(manifest: manifest, evaluator: evaluator, directory: out, options: SweepRunOptions())
            let summary = try WeightSearch.writeOutputs(manifest: manifest, records: outcome.records, family: family, directory: out,
                                                        bestCheckpoint: out + "/best.safetensors")
            XCTAssertEqual(summary.bestWeights, optimum, strategy.rawValue)
            XCTAssertEqual(summary.bestValue ?? 1, 0, accuracy: 1e-10)
            XCTAssertEqual(summary.axisNames, names)
            let header = try String(contentsOfFile: out + "/results.csv", encoding: .utf8).split(separator: "\n")[0]
            XCTAssertTrue(header.contains("w1_dec,w1_enc,w2_dec,w2_enc"), String(header))
            if strategy == .coord { XCTAssertLessThan(outcome.evaluated, 625 / 4, "coord needs a fraction of the grid") }
        }
    }

    func testEvalCommandSearchWithANumpyQuadraticFindsTheOptimum() throws {
        guard let python = TestPaths.python(with: ["numpy"]) else { throw XCTSkip("python3 with numpy not available") }
        let dir = TestPaths.scratchDirectory("per-block-evalcmd")
        let (b, a, c) = try files(dir)
        let target = oracle(optimum)
        // Reads the candidate safetensors itself (header + raw F32) and prints the quadratic.
        let script = dir.appendingPathComponent("score.py").path
        try """
            import json, struct, sys, numpy as np
            raw = open(sys.argv[1], 'rb').read()
            n = struct.unpack('<Q', raw[:8])[0]
            header = json.loads(raw[8:8 + n]); data = raw[8 + n:]
            target = {"enc.w": \(target["enc.w"]!), "dec.w": \(target["dec.w"]!)}
            total = 0.0
            for name, t in target.items():
                lo, hi = header[name]['data_offsets']
                x = np.frombuffer(data[lo:hi], dtype='<f4').astype(np.float64)
                total += float(((x - np.array(t)) ** 2).sum())
            print(total)
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let family = try WeightSearch.prepare(base: b, models: [a, c], blockGroups: "top")
        let names = WeightSearch.axisNames(family: family)
        let evaluator = try ExternalCommandSettings(command: "\(python) \(script) {checkpoint}", timeout: 60, scratchDirectory: dir.path)
            .evaluator(candidates: family, axisNames: names)
        let out = dir.appendingPathComponent("search").path
        let manifest = WeightSearch.manifest(grid: try GridSpec.parse(["0:1:5"], dimensions: 4), strategy: .coord,
                                             inputs: [b, a, c], evaluator: evaluator.summary, axisNames: names)
        let outcome = try SweepSession.run(manifest: manifest, evaluator: evaluator, directory: out, options: SweepRunOptions(jobs: 2))
        XCTAssertEqual(outcome.failed, 0)
        let best = try XCTUnwrap(outcome.used.best(.minimize))
        XCTAssertEqual(best.coordinates, optimum)
        XCTAssertEqual(best.value ?? 1, 0, accuracy: 1e-9)
    }
}

import XCTest
import TVEngine
import TVStorage
import TVTrainer
@testable import TVDeMe

/// Per-block merges of trainer models (`deme --merge-granularity block|routed`): the in-memory
/// merge against a per-tensor Float oracle in torch's order, the engine's rule-based file merge
/// against the in-memory one, and per-model weights as the special case of equal group weights.
final class PerBlockMergeTests: XCTestCase {
    /// The group of a trainer-MLP parameter, written out independently of BlockGroups.
    private func oracleGroup(_ name: String) -> Int {
        if name.hasPrefix("time_embed.") || name.hasPrefix("input.") { return 0 }
        if name.hasPrefix("blocks.0.") { return 1 }
        if name.hasPrefix("blocks.1.") { return 2 }
        return 3
    }

    func testPerBlockMergeIsThePerTensorOracleAndTheEnginesRuleMerge() throws {
        let base = TinyModels.model(seed: 3, projections: true)
        let fts = [TinyModels.perturbed(base, seed: 11), TinyModels.perturbed(base, seed: 12), TinyModels.perturbed(base, seed: 13)]
        let groups = try MergedModels.groups("mlp", of: base)
        XCTAssertEqual(groups.names, ["IN", "B0", "B1", "OUT"])
        let mm = try MergedModels(base: base, finetuned: fts, names: ["a", "b", "c"], groups: groups)
        XCTAssertEqual(mm.dimensions, 12)
        let coords = [0.1, 0.9, -0.3, 0.5, 0.25, 0, 1.5, 0.75, 0.6, 0.2, 0.4, 1]
        let merged = try mm.model(weights: coords).parameters.array
        let b = base.parameters.array
        var mismatches: [String] = []
        for e in base.layout.entries {
            let g = oracleGroup(e.name)
            let w = (0..<3).map { Float(coords[$0 * 4 + g]) }
            for j in e.offset..<(e.offset + e.count) {
                var acc: Float = 0
                var first = true
                for k in 0..<3 where w[k] != 0 {
                    let term = w[k] * (fts[k].parameters[j] - b[j])
                    acc = first ? term : acc + term
                    first = false
                }
                if (b[j] + acc).bitPattern != merged[j].bitPattern { mismatches.append(e.name); break }
            }
        }
        XCTAssertEqual(mismatches, [])

        // The file the pipeline writes: engine task arithmetic with one rule per group.
        let dir = TestPaths.scratchDirectory("deme-per-block")
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = try ([base] + fts).enumerated().map { k, m -> String in
            let p = dir.appendingPathComponent("m\(k).safetensors").path
            try ModelCheckpoint.save(m, to: p)
            return p
        }
        let file = try MergedFileWriter.write(base: paths[0], finetuned: Array(paths.dropFirst()), weights: coords,
                                              output: dir.appendingPathComponent("merged.safetensors").path, config: base.config, groups: groups)
        XCTAssertEqual(file.parameters.array.map(\.bitPattern), merged.map(\.bitPattern))

        // Equal weights across a model's groups are the per-model merge, bit for bit.
        let perModel = try MergedModels(base: base, finetuned: fts, names: ["a", "b", "c"])
        let w = [0.875, 0.1875, 0.375]
        XCTAssertEqual(try mm.model(weights: groups.expand(perModel: w)).parameters.array.map(\.bitPattern),
                       try perModel.model(weights: w).parameters.array.map(\.bitPattern))
        XCTAssertThrowsError(try mm.model(weights: w))
    }
}

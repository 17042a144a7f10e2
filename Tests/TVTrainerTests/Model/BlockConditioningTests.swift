import XCTest
import TVStorage
@testable import TVTrainer

/// The MLP's block-wise time conditioning options: recorded in the config, absent from old files,
/// and carried through checkpoints and the identity-projection expansion.
final class BlockConditioningTests: XCTestCase {
    func blockConfig() -> ModelConfig {
        ModelConfig(channels: 1, height: 3, width: 3, hiddenWidth: 6, blocks: 2, timeEmbedding: 4,
                    timeConditioning: .perBlock, blockNorm: .layer)
    }

    func testOldConfigsDecodeAsInputConditioningWithoutNorm() throws {
        let old = #"{"architecture":"mlp","blocks":2,"channels":1,"height":8,"hiddenWidth":32,"projections":false,"schedule":"linear","timeEmbedding":16,"timesteps":1000,"width":8}"#
        let c = try ModelConfig.fromMetadata([ModelConfig.metadataKey: old], source: "old.safetensors")
        XCTAssertFalse(c.perBlockTime)
        XCTAssertFalse(c.layerNormBlocks)
        XCTAssertEqual(c, ModelConfig(hiddenWidth: 32, blocks: 2, timeEmbedding: 16))
        XCTAssertEqual(c.metadataJSON(), old)   // defaults are not written: old bytes
    }

    func testOptionsAreRecordedAndNamedLikePyTorch() throws {
        let c = blockConfig()
        XCTAssertTrue(c.metadataJSON().contains(#""blockNorm":"layer""#))
        XCTAssertTrue(c.metadataJSON().contains(#""timeConditioning":"per_block""#))
        let back = try ModelConfig.fromMetadata([ModelConfig.metadataKey: c.metadataJSON()], source: "m")
        XCTAssertEqual(back, c)
        let names = MLPDenoiser.layout(for: c).entries.map(\.name)
        XCTAssertTrue(names.contains("blocks.1.time_emb_proj.weight") && names.contains("blocks.0.norm.bias"))
        let m = MLPDenoiser(config: c, seed: 1)
        let w = m.layout.entry("blocks.0.norm.weight")!, b = m.layout.entry("blocks.0.norm.bias")!
        XCTAssertTrue((0..<w.count).allSatisfy { m.parameters[w.offset + $0] == 1 && m.parameters[b.offset + $0] == 0 })
        // A plain config's initial values do not move when the options exist (no extra draws).
        let plain = MLPDenoiser(config: ModelConfig(channels: 1, height: 3, width: 3, hiddenWidth: 6, blocks: 2, timeEmbedding: 4), seed: 1)
        let e = plain.layout.entry("time_embed.0.weight")!, e2 = m.layout.entry("time_embed.0.weight")!
        XCTAssertEqual(Array(plain.parameters.array[e.offset..<(e.offset + e.count)]), Array(m.parameters.array[e2.offset..<(e2.offset + e2.count)]))
    }

    func testCheckpointRoundTripAndProjectionExpansionKeepOutputs() throws {
        let c = blockConfig()
        let m = MLPDenoiser(config: c, seed: 3)
        TestModels.perturbNorms(m, seed: 4)
        let path = TestPaths.scratchDirectory().appendingPathComponent("b.safetensors").path
        try ModelCheckpoint.save(m, to: path)
        let back = try ModelCheckpoint.load(path)
        XCTAssertEqual(back.config, c)
        XCTAssertEqual(back.parameters.array, m.parameters.array)
        let expanded = try ModelCheckpoint.load(path, identityProjections: true)
        XCTAssertTrue(expanded.config.projections && expanded.config.perBlockTime && expanded.config.layerNormBlocks)
        let (x0, t, _) = TestModels.batch(c, size: 4, seed: 2)
        XCTAssertEqual(expanded.predictEpsilon(x: x0, t: t), m.predictEpsilon(x: x0, t: t))
    }

    /// The time projection really conditions each block: changing one block's time_emb_proj
    /// bias changes the output for the same x and t.
    func testPerBlockTimeProjectionAffectsTheOutput() {
        let m = MLPDenoiser(config: blockConfig(), seed: 5)
        let (x0, t, _) = TestModels.batch(m.config, size: 2, seed: 6)
        let before = m.predictEpsilon(x: x0, t: t)
        m.parameters[m.layout.entry("blocks.1.time_emb_proj.bias")!.offset] += 0.5
        XCTAssertNotEqual(before, m.predictEpsilon(x: x0, t: t))
    }
}

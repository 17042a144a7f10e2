import CKernels
import XCTest
@testable import TVTrainer

/// A frozen copy (the consistency teacher) looks its time conditioning up per timestep: same
/// outputs, bit for bit, as the model computing it per batch.
final class FrozenTimeConditioningTests: XCTestCase {
    func testFrozenCopyGivesTheSameBits() throws {
        try XCTSkipUnless(MatrixProduct.tiled, "the table is only used with the tiled GEMM")
        // Width 300: products deeper than the kernel's K block (256), which sum block by block.
        for (time, norm, projections, width) in [(TimeConditioning.perBlock, BlockNorm.layer, false, 20),
                                                 (.perBlock, .none, true, 20), (.input, .none, false, 20),
                                                 (.perBlock, .layer, true, 300)] {
            let c = ModelConfig(hiddenWidth: width, blocks: 2, timeEmbedding: 6, projections: projections, timesteps: 50,
                                timeConditioning: time, blockNorm: norm)
            let model = MLPDenoiser(config: c, seed: 9)
            TestModels.perturbNorms(model, seed: 1)
            let frozen = model.frozenCopy()
            for seed: UInt64 in [1, 2] {
                let b = TestModels.batch(c, size: 7 + Int(seed), seed: seed)
                XCTAssertEqual(frozen.predictEpsilon(x: b.x0, t: b.t).map(\.bitPattern),
                               model.predictEpsilon(x: b.x0, t: b.t).map(\.bitPattern), "\(time) \(norm) projections \(projections) width \(width)")
            }
        }
    }

    /// Report rows evaluate a frozen copy in two data-parallel halves (the replica shares its
    /// table): the bits of the model evaluated whole.
    func testFrozenDataParallelHalvesGiveTheModelsBits() throws {
        try XCTSkipUnless(MatrixProduct.tiled, "the table is only used with the tiled GEMM")
        let c = ModelConfig(hiddenWidth: 24, blocks: 2, timeEmbedding: 6, projections: true, timesteps: 50,
                            timeConditioning: .perBlock, blockNorm: .layer)
        let model = MLPDenoiser(config: c, seed: 4)
        TestModels.perturbNorms(model, seed: 2)
        let b = TestModels.batch(c, size: 11, seed: 3)
        XCTAssertEqual(DataParallelDenoiser(frozen: model).predictEpsilon(x: b.x0, t: b.t).map(\.bitPattern),
                       model.predictEpsilon(x: b.x0, t: b.t).map(\.bitPattern))
    }
}

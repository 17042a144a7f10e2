import Foundation
import TVStorage
import TVTrainer
import XCTest
@testable import TVDeMe

/// Regression (review): deme's merged UNet folder was created before the merge, so a failed merge
/// left an empty (or weights-only) `merged/` behind. A folder the writer creates is removed again.
final class MergedFolderCleanupTests: XCTestCase {
    func testAFailedMergeLeavesNoFolder() throws {
        let dir = TestPaths.scratchDirectory("merged-folder-cleanup")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = dir.appendingPathComponent("base.safetensors").path
        let bad = dir.appendingPathComponent("nan.safetensors").path
        try Checkpoints.save([("w", try Tensor.fromFloats([1, 2, 3, 4], shape: [4]))], to: base, metadata: [:])
        try Checkpoints.save([("w", try Tensor.fromFloats([1, .nan, 3, 4], shape: [4]))], to: bad, metadata: [:])
        let config = UNet2DModel.modelConfig(UNetConfig(sampleSize: 8, inChannels: 1, outChannels: 1, blockOutChannels: [4, 8],
                                                        downBlockTypes: [.down, .attnDown], upBlockTypes: [.attnUp, .up],
                                                        layersPerBlock: 1, attentionHeadDim: 4, normNumGroups: 2))
        let output = dir.appendingPathComponent("merged").path
        XCTAssertTrue(ModelFolder.isFolderOutput(output, config: config))
        XCTAssertThrowsError(try MergedFileWriter.write(base: base, finetuned: [bad], weights: [0.5], output: output, config: config))
        XCTAssertFalse(FileManager.default.fileExists(atPath: output), "a failed merge left \(output) behind")
    }
}

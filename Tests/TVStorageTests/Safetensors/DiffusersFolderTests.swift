import Foundation
import XCTest
@testable import TVStorage

final class DiffusersFolderTests: XCTestCase {
    private let root = "safetensors/diffusers/"
    private func expected() throws -> [String: [String: [String: Any]]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture(root + "expected.json")))
        return try JSONSerialization.jsonObject(with: data) as! [String: [String: [String: Any]]]
    }

    private func check(_ r: any CheckpointReader, _ tensors: [String: [String: Any]]) throws {
        XCTAssertEqual(Set(r.tensors.map(\.name)), Set(tensors.keys))
        for (name, t) in tensors {
            let tensor = try r.tensor(named: name)
            XCTAssertEqual(tensor.dtype.rawValue, t["dtype"] as? String, name)
            XCTAssertEqual(tensor.storage.buffer.hexString, t["hex"] as? String, name)
        }
    }

    func testPipelineFolderOpensTheUNet() throws {
        let exp = try expected()
        try check(try Checkpoints.open(TestPaths.fixture(root + "pipeline")), exp["unet"]!)
        try check(try Checkpoints.open(TestPaths.fixture(root + "pipeline/unet")), exp["unet"]!)
        try check(try Checkpoints.open(TestPaths.fixture(root + "pipeline"), options: OpenOptions(variant: "fp16")), exp["unet_fp16"]!)
    }

    func testShardedModelFolder() throws {
        let r = try Checkpoints.open(TestPaths.fixture(root + "sharded_model"))
        XCTAssertTrue(r is ShardedSafetensorsReader)
        try check(r, try expected()["unet"]!)
    }

    func testMissingWeightsAndVariantAreClearErrors() throws {
        XCTAssertThrowsError(try Checkpoints.open(TestPaths.fixture(root + "no_weights"))) {
            XCTAssertTrue($0 is DiffusersFolder.Failure, "\($0)")
        }
        XCTAssertThrowsError(try Checkpoints.open(TestPaths.fixture(root + "pipeline"), options: OpenOptions(variant: "ema"))) {
            XCTAssertTrue(String(describing: $0).contains("'ema' variant"), "\($0)")
            XCTAssertTrue(String(describing: $0).contains("diffusion_pytorch_model.fp16.safetensors"), "\($0)")
        }
    }

    /// A folder with only a torch `.bin` is routed to the PyTorch reader: until that lands this is
    /// a clear "not supported yet" error; once it does, the values must match.
    func testBinOnlyFolderRoutesToPyTorchReader() throws {
        let exp = try expected()
        guard let tensors = exp["bin_only"] else { throw XCTSkip("fixture made without torch") }
        do {
            try check(try Checkpoints.open(TestPaths.fixture(root + "bin_only")), tensors)
        } catch let e as StorageError {
            guard case .notSupportedYet = e else { return XCTFail("\(e)") }
            XCTAssertTrue(e.description.contains("diffusion_pytorch_model.bin"), e.description)
        }
    }
}

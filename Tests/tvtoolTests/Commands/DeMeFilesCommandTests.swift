import XCTest
import TVStorage
import TVEngine
@testable import tvtool

/// DeMe's own files (fixtures/deme_files, made by torch/diffusers): range finetunes saved as
/// `unet_ema_lora/diffusion_pytorch_model.bin` with projection layers the pretrained UNet lacks,
/// merged with `--missing-in-base identity` and compared with a numpy re-implementation of
/// DeMe's merge script (expected_deme_merge.safetensors, computed in float64 at fixture time).
final class DeMeFilesCommandTests: XCTestCase {
    func fixture(_ name: String) -> String { TestPaths.fixture("deme_files/" + name) }

    func run(_ args: [String]) throws {
        var command = try TVTool.parseAsRoot(args)
        try command.run()
    }

    private var rangeFolders: [String] { (0..<4).map { fixture("r\($0)") + "/" } }

    func testIdentityMergeMatchesDeMesMergeScript() throws {
        // The command of the issue: a diffusers folder out, with the base's config.json.
        let out = TestPaths.scratchDirectory("deme-files").appendingPathComponent("merged").path + "/"
        try run(["merge", fixture("pretrained_unet") + "/"] + rangeFolders
                + ["--weights", "0.1,0.1,0.2,0.5", "--missing-in-base", "identity", "-o", out, "--quiet"])
        XCTAssertEqual(FileManager.default.contents(atPath: out + "config.json"), FileManager.default.contents(atPath: fixture("pretrained_unet/config.json")))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "diffusion_pytorch_model.safetensors"))
        let got = try Checkpoints.open(out), want = try Checkpoints.open(fixture("expected_deme_merge.safetensors"))
        XCTAssertEqual(Set(got.tensors.map(\.name)), Set(want.tensors.map(\.name)))
        var projections = 0
        for info in want.tensors {
            let g = try got.tensor(named: info.name), w = try want.tensor(named: info.name)
            XCTAssertEqual(g.shape, w.shape, info.name)
            XCTAssertEqual(g.dtype, w.dtype, info.name)
            if !w.dtype.supportsArithmetic {
                XCTAssertEqual(Array(g.storage.buffer), Array(w.storage.buffer), "\(info.name): integer buffer must be the base's")
                continue
            }
            if info.name.contains("lora_layer") { projections += 1 }
            let a = try g.floats(), b = try w.floats()
            for i in a.indices { XCTAssertEqual(a[i], b[i], accuracy: 2e-6, "\(info.name)[\(i)]") }
        }
        XCTAssertEqual(projections, 5)
    }

    func testDefaultStillRefusesLayersTheBaseLacks() {
        let out = TestPaths.scratchDirectory("deme-files").appendingPathComponent("refused.safetensors").path
        XCTAssertThrowsError(try run(["merge", fixture("pretrained_unet"), fixture("r0"), "-o", out, "--quiet"])) {
            XCTAssertTrue("\($0)".contains("lora_layer"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testZeroBaseGivesTheWeightedSumOfTheLayer() throws {
        let out = TestPaths.scratchDirectory("deme-files").appendingPathComponent("zero.safetensors").path
        try run(["merge", fixture("pretrained_unet"), fixture("r0"), fixture("r1"), "--weights", "0.25,0.5",
                 "--missing-in-base", "zero", "-o", out, "--quiet"])
        let name = "mid_block.lora_layer.weight"
        let got = try Checkpoints.open(out).tensor(named: name).floats()
        let a = try Checkpoints.open(fixture("r0")).tensor(named: name).floats()
        let b = try Checkpoints.open(fixture("r1")).tensor(named: name).floats()
        for i in got.indices { XCTAssertEqual(got[i], 0.25 * a[i] + 0.5 * b[i], accuracy: 1e-6) }
    }

    func testIdentityRefusesANonSquareLayerNamingIt() {
        let out = TestPaths.scratchDirectory("deme-files").appendingPathComponent("bad.safetensors").path
        XCTAssertThrowsError(try run(["merge", fixture("pretrained_unet"), fixture("bad_proj"), "--keys", "intersection",
                                      "--missing-in-base", "identity", "-o", out, "--quiet"])) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("down_blocks.0.lora_layer.weight") && message.contains("[4, 8, 1, 1]"), message)
            XCTAssertFalse(message.contains("\n"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testDiffMeasuresProjectionsAgainstTheIdentity() throws {
        let out = TestPaths.scratchDirectory("deme-files").appendingPathComponent("tau.safetensors").path
        try run(["diff", fixture("pretrained_unet"), fixture("r2"), "--missing-in-base", "identity", "-o", out, "--quiet"])
        let name = "up_blocks.0.lora_layer.weight"
        let tau = try Checkpoints.open(out).tensor(named: name).floats()
        let w = try Checkpoints.open(fixture("r2")).tensor(named: name).floats()
        for i in tau.indices { XCTAssertEqual(tau[i], w[i] - (i % 9 == 0 ? 1 : 0), accuracy: 1e-6, "\(i)") }
    }
}

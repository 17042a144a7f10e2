import XCTest
import TVStorage
@testable import tvtool

/// SD single files and diffusers pipelines through the commands: convert both ways, whole-pipeline
/// merges (only differing parts merged, the rest copied), --variant, mixed namings, and writing
/// inside an input folder. Expected values are computed here in Double from the input files.
final class StableDiffusionCommandTests: XCTestCase {
    let fm = FileManager.default
    func fixture(_ name: String) -> String { TestPaths.fixture("stable_diffusion/" + name) }

    func run(_ args: [String]) throws {
        var command = try TVTool.parseAsRoot(args)
        try command.run()
    }

    /// sd15 as a diffusers pipeline (with a tokenizer folder and configs to copy) and a finetune
    /// whose UNet differs (vae and text encoder byte-identical).
    private func makePipelines(variant: String? = nil) throws -> (dir: URL, base: String, ft: String) {
        let dir = TestPaths.scratchDirectory("sd-cli")
        let base = dir.appendingPathComponent("base").path, ft = dir.appendingPathComponent("ft").path
        try run(["convert", fixture("sd15.safetensors"), base + "/", "--layout", "diffusers", "--quiet"] + (variant.map { ["--variant", $0] } ?? []))
        try fm.createDirectory(atPath: base + "/tokenizer", withIntermediateDirectories: true)
        try "{\"vocab\": 1}".write(toFile: base + "/tokenizer/vocab.json", atomically: true, encoding: .utf8)
        try "{\"_class_name\": \"UNet2DConditionModel\"}".write(toFile: base + "/unet/config.json", atomically: true, encoding: .utf8)
        try fm.copyItem(atPath: base, toPath: ft)
        let unetFile = try DiffusersFolder.weightsFile(in: ft + "/unet", variant: variant, descend: false)
        let unet = try Checkpoints.open(unetFile)
        var changed: [(String, Tensor)] = []
        for (k, info) in unet.tensors.enumerated() {
            let v = try unet.tensor(named: info.name).floats().enumerated().map { $1 + Float(($0 + k) % 7 - 3) * 0.01 }
            changed.append((info.name, try Tensor.fromFloats(v, shape: info.shape, dtype: info.dtype)))
        }
        try fm.removeItem(atPath: unetFile)
        try Checkpoints.save(changed, to: unetFile, metadata: [:])
        return (dir, base, ft)
    }

    func testConvertRoundTripThroughAPipelineFolder() throws {
        let dir = TestPaths.scratchDirectory("sd-cli")
        let pipe = dir.appendingPathComponent("pipe").path, back = dir.appendingPathComponent("back.safetensors").path
        // sd21: minus the 14 OpenCLIP tensors diffusers does not have (its unused last block, text_projection, logit_scale)
        for (file, n) in [("sd15", 1125), ("sd21", 1208)] {
            try? fm.removeItem(atPath: pipe); try? fm.removeItem(atPath: back)
            try run(["convert", fixture(file + ".safetensors"), pipe + "/", "--layout", "diffusers", "--quiet"])
            XCTAssertTrue(fm.fileExists(atPath: pipe + "/unet/diffusion_pytorch_model.safetensors"))
            XCTAssertTrue(fm.fileExists(atPath: pipe + "/text_encoder/model.safetensors"))
            XCTAssertTrue(fm.fileExists(atPath: pipe + "/model_index.json"))
            try run(["convert", pipe, back, "--layout", "sd-single-file", "--quiet"])
            let a = try Checkpoints.open(fixture(file + ".safetensors")), b = try Checkpoints.open(back)
            XCTAssertEqual(b.tensors.count, n, file)
            for info in b.tensors {
                let x = try a.tensor(named: info.name), y = try b.tensor(named: info.name)
                XCTAssertEqual(x.shape, y.shape, info.name)
                XCTAssertEqual(Array(x.storage.buffer), Array(y.storage.buffer), info.name)
            }
        }
    }

    func testWholePipelineMergeMergesOnlyTheDifferingPart() throws {
        let (dir, base, ft) = try makePipelines()
        let out = dir.appendingPathComponent("merged").path
        try run(["merge", base, ft, "--weights", "0.3", "-o", out + "/", "--quiet"])
        // The VAE and text encoder are the same in both inputs: copied byte for byte.
        for f in ["vae/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors", "tokenizer/vocab.json", "model_index.json", "unet/config.json"] {
            XCTAssertEqual(fm.contents(atPath: out + "/" + f), fm.contents(atPath: base + "/" + f), f)
        }
        let m = try Checkpoints.open(out + "/unet"), b = try Checkpoints.open(base + "/unet"), f = try Checkpoints.open(ft + "/unet")
        XCTAssertEqual(m.tensors.count, b.tensors.count)
        for info in b.tensors.prefix(200) {
            let bv = try b.tensor(named: info.name).doubles(), fv = try f.tensor(named: info.name).doubles()
            let mv = try m.tensor(named: info.name).doubles()
            for i in mv.indices { XCTAssertEqual(mv[i], bv[i] + 0.3 * (fv[i] - bv[i]), accuracy: 1e-6, info.name) }
        }
    }

    func testVariantIsReadAndWritten() throws {
        let (dir, base, ft) = try makePipelines(variant: "fp16")
        XCTAssertTrue(fm.fileExists(atPath: base + "/unet/diffusion_pytorch_model.fp16.safetensors"))
        let out = dir.appendingPathComponent("merged16").path
        try run(["merge", base, ft, "--weights", "0.5", "--variant", "fp16", "--parts", "unet,vae", "-o", out, "--quiet"])
        XCTAssertTrue(fm.fileExists(atPath: out + "/unet/diffusion_pytorch_model.fp16.safetensors"))
        XCTAssertTrue(fm.fileExists(atPath: out + "/vae/diffusion_pytorch_model.fp16.safetensors"))
        XCTAssertTrue(fm.fileExists(atPath: out + "/text_encoder/model.fp16.safetensors"))  // copied
        XCTAssertThrowsError(try run(["merge", base, ft, "--variant", "fp16", "--parts", "nope", "-o", dir.appendingPathComponent("x").path, "--quiet"])) {
            XCTAssertTrue("\($0)".contains("nope"), "\($0)")
        }
    }

    func testSingleFileMergesWithADiffusersPipelineAndUNetFolder() throws {
        let (dir, _, ft) = try makePipelines()
        let out = dir.appendingPathComponent("mixed.safetensors").path
        try run(["merge", fixture("sd15.safetensors"), ft + "/unet", "--weights", "1", "-o", out, "--quiet"])
        // Weight 1: the merged UNet is the finetune's, in diffusers UNet naming.
        let m = try Checkpoints.open(out), f = try Checkpoints.open(ft + "/unet")
        XCTAssertEqual(Set(m.tensors.map(\.name)), Set(f.tensors.map(\.name)))
        let name = "down_blocks.1.attentions.0.proj_in.weight"
        XCTAssertEqual(try m.tensor(named: name).floats(), try f.tensor(named: name).floats())
        let pipeOut = dir.appendingPathComponent("mixedpipe").path
        try run(["merge", fixture("sd15.safetensors"), ft, "--weights", "0", "-o", pipeOut + "/", "--quiet"])
        XCTAssertTrue(fm.fileExists(atPath: pipeOut + "/unet/diffusion_pytorch_model.safetensors"))
        // The single-file base has no configs: the pipeline input's are copied.
        for f in ["model_index.json", "unet/config.json", "tokenizer/vocab.json", "vae/config.json"] {
            XCTAssertEqual(fm.contents(atPath: pipeOut + "/" + f), fm.contents(atPath: ft + "/" + f), f)
        }
    }

    /// An SD 2.x single file beside its diffusers pipeline (23 text-encoder layers, no
    /// text_projection/logit_scale): the single file's OpenCLIP extras are left out, not a key mismatch.
    func testSD2SingleFileMergesWithItsDiffusersPipeline() throws {
        let dir = TestPaths.scratchDirectory("sd-cli")
        let pipe = dir.appendingPathComponent("p21").path, out = dir.appendingPathComponent("m21").path
        try? fm.removeItem(atPath: pipe); try? fm.removeItem(atPath: out)
        try run(["convert", fixture("sd21.safetensors"), pipe + "/", "--layout", "diffusers", "--quiet"])
        try run(["merge", fixture("sd21.safetensors"), pipe, "--weights", "0.5", "-o", out + "/", "--quiet"])
        let te = try Checkpoints.open(out + "/text_encoder"), ref = try Checkpoints.open(pipe + "/text_encoder")
        XCTAssertEqual(Set(te.tensors.map(\.name)), Set(ref.tensors.map(\.name)))
        let name = "text_model.encoder.layers.22.self_attn.k_proj.weight"
        let a = try te.tensor(named: name).doubles(), b = try ref.tensor(named: name).doubles()
        for i in a.indices { XCTAssertEqual(a[i], b[i], accuracy: 1e-6) }  // the same model on both sides
        XCTAssertEqual(fm.contents(atPath: out + "/text_encoder/config.json"), fm.contents(atPath: pipe + "/text_encoder/config.json"))
    }

    func testWritingInsideAnInputFolderIsAllowedUnlessItReplacesAFile() throws {
        let (_, base, ft) = try makePipelines()
        let inside = base + "/unet/merged.safetensors"
        try run(["merge", base + "/unet", ft + "/unet", "-o", inside, "--quiet"])
        XCTAssertTrue(fm.fileExists(atPath: inside))
        let existing = base + "/unet/diffusion_pytorch_model.safetensors"
        let before = fm.contents(atPath: existing)
        XCTAssertThrowsError(try run(["merge", base + "/unet", ft + "/unet", "-o", existing, "--quiet"])) {
            XCTAssertEqual($0 as? StorageError, .wouldOverwriteInput(path: existing))
        }
        XCTAssertEqual(fm.contents(atPath: existing), before)
    }

    func testDiffOnPipelinesComparesTheDifferingPartsAndWritesAPipeline() throws {
        let (dir, base, ft) = try makePipelines()
        let tau = dir.appendingPathComponent("tau").path
        try run(["diff", base, ft, "-o", tau + "/", "--quiet", "--top", "0"])
        XCTAssertTrue(fm.fileExists(atPath: tau + "/unet/diffusion_pytorch_model.safetensors"))
        XCTAssertTrue(fm.fileExists(atPath: tau + "/model_index.json"))
        // A task vector holds only what was compared: no copy of the base's VAE weights.
        XCTAssertFalse(fm.fileExists(atPath: tau + "/vae"))
        let t = try Checkpoints.open(tau + "/unet"), b = try Checkpoints.open(base + "/unet"), f = try Checkpoints.open(ft + "/unet")
        let name = "mid_block.attentions.0.proj_out.weight"
        let tv = try t.tensor(named: name).doubles(), bv = try b.tensor(named: name).doubles(), fv = try f.tensor(named: name).doubles()
        for i in tv.indices { XCTAssertEqual(tv[i], fv[i] - bv[i], accuracy: 1e-6) }
    }

    func testPipelineOutputRefusesANonEmptyFolderAndLeavesNothingBehind() throws {
        let (dir, base, ft) = try makePipelines()
        let out = dir.appendingPathComponent("busy").path
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        try "x".write(toFile: out + "/keep.txt", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try run(["merge", base, ft, "-o", out, "--quiet"])) { XCTAssertTrue("\($0)".contains("not empty"), "\($0)") }
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: out), ["keep.txt"])
        XCTAssertFalse(try fm.contentsOfDirectory(atPath: dir.path).contains { $0.contains("tvtool-partial") })
    }
}

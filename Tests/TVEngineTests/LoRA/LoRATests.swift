import Foundation
import XCTest
import TVStorage
@testable import TVEngine

/// LoRA bake and extract against numpy (fixtures/lora/make.py): baked weights W + s·α/r·B@A in
/// every naming, truncated-SVD energies, and baking an extracted LoRA back = numpy's rank-r
/// reconstruction.
final class LoRATests: XCTestCase {
    func fixture(_ name: String) -> String { TestPaths.fixture("lora/" + name) }
    func open(_ name: String) throws -> any CheckpointReader { try Checkpoints.open(fixture(name)) }
    func scratch(_ name: String) -> String { TestPaths.scratchDirectory("lora").appendingPathComponent(name).path }

    func assertSame(_ got: String, _ want: String, tolerance: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        let g = try Checkpoints.open(got), w = try Checkpoints.open(want)
        XCTAssertEqual(Set(g.tensors.map(\.name)), Set(w.tensors.map(\.name)), file: file, line: line)
        for t in w.tensors {
            XCTAssertEqual(g.info(named: t.name)?.dtype, t.dtype, t.name, file: file, line: line)
            guard t.dtype.supportsArithmetic else { continue }
            let a = try g.tensor(named: t.name).doubles(), b = try w.tensor(named: t.name).doubles()
            let scale = 1 + (b.map(abs).max() ?? 0)
            for i in b.indices { XCTAssertEqual(a[i], b[i], accuracy: tolerance * scale, "\(t.name)[\(i)]", file: file, line: line) }
        }
    }

    func testBakeEveryNamingMatchesNumpy() throws {
        let cases: [(model: String, lora: String, config: String?, expected: String)] = [
            ("model_diffusers.safetensors", "kohya_diffusers.safetensors", nil, "expected_kohya_diffusers.safetensors"),
            ("model_single.safetensors", "kohya_single.safetensors", nil, "expected_kohya_single.safetensors"),
            ("model_diffusers.safetensors", "diffusers_style.safetensors", nil, "expected_diffusers_style.safetensors"),
            ("model_diffusers.safetensors", "peft/adapter_model.safetensors", LoRAModules.adapterConfigBeside(fixture("peft/adapter_model.safetensors")),
             "expected_peft.safetensors"),
        ]
        for c in cases {
            let out = scratch("baked.safetensors")
            let r = try LoRABaker.bake(model: open(c.model), lora: open(c.lora), scale: 0.7, adapterConfig: c.config, output: out)
            XCTAssertTrue(r.unmatched.isEmpty)
            XCTAssertFalse(r.baked.isEmpty, c.lora)
            // The F16 weight (kohya_diffusers only): within one F16 rounding of numpy's cast.
            try assertSame(out, fixture(c.expected), tolerance: c.lora.hasPrefix("kohya_diffusers") ? 1e-3 : 1e-6)
        }
    }

    /// fixtures/lora/make.py's TO_SINGLE: the same tensors in diffusers and single-file naming.
    static let toSingle = [("down_blocks.0.attentions.0.", "model.diffusion_model.input_blocks.1.1."),
                           ("down_blocks.0.resnets.0.conv1.", "model.diffusion_model.input_blocks.1.0.in_layers.2."),
                           ("down_blocks.0.resnets.0.conv_shortcut.", "model.diffusion_model.input_blocks.1.0.skip_connection."),
                           ("mid_block.attentions.0.", "model.diffusion_model.middle_block.1."),
                           ("up_blocks.1.attentions.0.", "model.diffusion_model.output_blocks.3.1.")]

    func testCrossNamingBakesMatchNumpyThroughTheSDKeyMap() throws {
        func single(_ n: String) -> String { Self.toSingle.first { n.hasPrefix($0.0) }.map { $0.1 + n.dropFirst($0.0.count) } ?? n }
        func diffusers(_ n: String) -> String { Self.toSingle.first { n.hasPrefix($0.1) }.map { $0.0 + n.dropFirst($0.1.count) } ?? n }
        let peft = fixture("peft/adapter_model.safetensors")
        // Diffusers-path LoRAs (kohya, diffusers, PEFT) onto the single file, and the LDM-named kohya
        // LoRA onto the diffusers UNet: numpy's expected files with their names mapped.
        let cases: [(model: String, lora: String, config: String?, expected: String, rename: (String) -> String, unmatched: Int)] = [
            ("model_single.safetensors", "kohya_diffusers.safetensors", nil, "expected_kohya_diffusers.safetensors", single, 0),
            ("model_single.safetensors", "diffusers_style.safetensors", nil, "expected_diffusers_style.safetensors", single, 0),
            ("model_single.safetensors", "peft/adapter_model.safetensors", LoRAModules.adapterConfigBeside(peft), "expected_peft.safetensors", single, 0),
            ("model_diffusers.safetensors", "kohya_single.safetensors", nil, "expected_kohya_single.safetensors", diffusers, 1),
        ]
        for c in cases {
            let out = scratch("cross.safetensors")
            let r = try LoRABaker.bake(model: open(c.model), lora: open(c.lora), scale: 0.7, adapterConfig: c.config,
                                       allowUnmatched: c.unmatched > 0, output: out)
            XCTAssertEqual(r.unmatched.count, c.unmatched, "\(c.lora): \(r.unmatched)")  // the text encoder's module, absent from a UNet file
            XCTAssertFalse(r.baked.isEmpty, c.lora)
            let got = try Checkpoints.open(out), want = try open(c.expected), model = try open(c.model)
            var compared = 0
            for t in want.tensors where t.dtype.supportsArithmetic {
                let name = c.rename(t.name)
                guard model.info(named: name) != nil else { continue }
                let a = try got.tensor(named: name).doubles(), b = try want.tensor(named: t.name).doubles()
                let tol = (t.dtype == .f16 ? 1e-3 : 1e-6) * (1 + (b.map(abs).max() ?? 0))
                for i in b.indices { XCTAssertEqual(a[i], b[i], accuracy: tol, "\(c.lora) \(name)[\(i)]") }
                compared += 1
            }
            XCTAssertGreaterThanOrEqual(compared, 5, c.lora)
        }
    }

    func testPEFTWithoutItsConfigIsScaleOne() throws {
        // Without adapter_config.json alpha = rank: a different result from the configured one.
        let out = scratch("noconfig.safetensors")
        _ = try LoRABaker.bake(model: open("model_diffusers.safetensors"), lora: open("peft/adapter_model.safetensors"), scale: 0.7, output: out)
        let got = try Checkpoints.open(out).tensor(named: "down_blocks.0.attentions.0.proj_in.weight").doubles()
        let want = try open("expected_peft.safetensors").tensor(named: "down_blocks.0.attentions.0.proj_in.weight").doubles()
        XCTAssertGreaterThan(zip(got, want).map { abs($0 - $1) }.max()!, 1e-3)
    }

    func testUnmatchedModuleIsAnErrorUnlessAllowed() throws {
        let out = scratch("u.safetensors")
        XCTAssertThrowsError(try LoRABaker.bake(model: open("model_diffusers.safetensors"), lora: open("kohya_unmatched.safetensors"), scale: 0.7, output: out)) {
            XCTAssertTrue("\($0)".contains("lora_unet_down_blocks_9_attentions_0_proj_in") && "\($0)".contains("--allow-unmatched"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let r = try LoRABaker.bake(model: open("model_diffusers.safetensors"), lora: open("kohya_unmatched.safetensors"), scale: 0.7,
                                   allowUnmatched: true, output: out)
        XCTAssertEqual(r.unmatched, ["lora_unet_down_blocks_9_attentions_0_proj_in"])
        try assertSame(out, fixture("expected_kohya_diffusers.safetensors"), tolerance: 1e-3)
    }

    func testWrongShapeNamesModuleAndTensor() throws {
        // The single-file kohya LoRA onto the diffusers model matches nothing; onto a model whose
        // tensor has another shape it is a shape error naming both.
        let dir = TestPaths.scratchDirectory("lora")
        let lora = dir.appendingPathComponent("l.safetensors").path
        try Checkpoints.save([("lora_unet_mid_block_attentions_0_proj_out.lora_down.weight", try Tensor.fromFloats(Array(repeating: 0, count: 2 * 6), shape: [2, 6])),
                              ("lora_unet_mid_block_attentions_0_proj_out.lora_up.weight", try Tensor.fromFloats(Array(repeating: 0, count: 5 * 2), shape: [5, 2]))],
                             to: lora, metadata: [:])
        XCTAssertThrowsError(try LoRABaker.bake(model: open("model_diffusers.safetensors"), lora: Checkpoints.open(lora), scale: 1,
                                                output: dir.appendingPathComponent("o.safetensors").path)) {
            XCTAssertTrue("\($0)".contains("up @ down is 5×6") && "\($0)".contains("mid_block.attentions.0.proj_out.weight"), "\($0)")
        }
    }

    func testExtractMatchesNumpySVDAndBakesBackToTheRankRApproximation() throws {
        struct Expected: Decodable { var rank: Int; var energy: Double; var tensors: [String: Double] }
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: fixture("expected_extract.json"))))
        for format in LoRAFormat.allCases {
            let dir = TestPaths.scratchDirectory("lora")
            let out = dir.appendingPathComponent("adapter_model.safetensors").path
            let r = try LoRAExtractor.extract(base: open("extract_base.safetensors"), finetuned: open("extract_ft.safetensors"),
                                              rank: expected.rank, format: format, output: out)
            XCTAssertEqual(r.rows.count, expected.tensors.count)
            for row in r.rows { XCTAssertEqual(row.energy, expected.tensors[row.tensor]!, accuracy: 1e-9, row.tensor) }
            XCTAssertEqual(r.energy, expected.energy, accuracy: 1e-9)
            XCTAssertEqual(r.skipped, ["down_blocks.0.resnets.0.conv1.bias"])
            XCTAssertEqual(format == .peft, r.adapterConfigPath != nil)
            let baked = dir.appendingPathComponent("baked.safetensors").path
            _ = try LoRABaker.bake(model: open("extract_base.safetensors"), lora: Checkpoints.open(out), scale: 1,
                                   adapterConfig: r.adapterConfigPath, output: baked)
            try assertSame(baked, fixture("expected_extract_rank3.safetensors"), tolerance: 1e-6)
        }
    }

    func testExtractFromATaskVectorFileAndFullRank() throws {
        // A task-vector file gives the same factors as BASE FT; at full rank the energy is 1.
        let dir = TestPaths.scratchDirectory("lora")
        let base = try open("extract_base.safetensors"), ft = try open("extract_ft.safetensors")
        let tau = dir.appendingPathComponent("tau.safetensors").path
        try Checkpoints.save(try ft.tensors.map { t in
            let d = zip(try ft.tensor(named: t.name).doubles(), try base.tensor(named: t.name).doubles()).map { $0 - $1 }
            return (t.name, try Tensor.fromDoubles(d, shape: t.shape, dtype: .f64))
        }, to: tau, metadata: [:])
        let r = try LoRAExtractor.extract(base: nil, finetuned: Checkpoints.open(tau), rank: 3, format: .kohya,
                                          output: dir.appendingPathComponent("a.safetensors").path)
        XCTAssertEqual(r.energy, 0.700565720013448, accuracy: 1e-6)
        let full = try LoRAExtractor.extract(base: base, finetuned: ft, rank: 64, format: .kohya, output: dir.appendingPathComponent("f.safetensors").path)
        XCTAssertEqual(full.energy, 1, accuracy: 1e-12)
        XCTAssertEqual(full.rows.first { $0.tensor == "mid_block.attentions.0.proj_out.weight" }?.rank, 5)
        XCTAssertThrowsError(try LoRAExtractor.extract(base: base, finetuned: ft, rank: 0, format: .kohya, output: dir.appendingPathComponent("z.safetensors").path))
    }
}

import Foundation
import XCTest
import TVStorage
@testable import tvtool

/// `merge --block-weights` end to end on fixtures/blocks (expected outputs: numpy, with blocks from
/// supermerger's regexes), in both namings; errors and --explain through the built binary.
final class BlockWeightsCommandTests: XCTestCase {
    func fixture(_ name: String) -> String { TestPaths.fixture("blocks/" + name) }

    func lists() throws -> (a: String, b: String) {
        let w = try JSONDecoder().decode([String: [Double]].self, from: Data(contentsOf: URL(fileURLWithPath: fixture("weights.json"))))
        return (w["a"]!.map { "\($0)" }.joined(separator: ","), w["b"]!.map { "\($0)" }.joined(separator: ","))
    }

    func testPerModelBlockWeightsMatchNumpyInBothNamings() throws {
        let (a, b) = try lists()
        for tag in ["single", "diffusers"] {
            let out = TestPaths.scratchDirectory("bw").appendingPathComponent("m.safetensors").path
            var command = try TVTool.parseAsRoot(["merge", fixture("\(tag)_base.safetensors"), fixture("\(tag)_a.safetensors"),
                                                  fixture("\(tag)_b.safetensors"), "--block-weights", a, "--block-weights", b, "-o", out, "--quiet"])
            try command.run()
            let got = try Checkpoints.open(out), want = try Checkpoints.open(fixture("expected_\(tag).safetensors"))
            XCTAssertEqual(got.tensors.count, want.tensors.count)
            for t in want.tensors {
                let g = try got.tensor(named: t.name).floats(), w = try want.tensor(named: t.name).floats()
                for i in w.indices { XCTAssertEqual(g[i], w[i], accuracy: 1e-6, "\(tag) \(t.name)") }
            }
        }
    }

    func testBlockWeightsFromARecipeMatchNumpy() throws {
        let w = try JSONDecoder().decode([String: [Double]].self, from: Data(contentsOf: URL(fileURLWithPath: fixture("weights.json"))))
        let dir = TestPaths.scratchDirectory("bw-recipe")
        // Per model: model a as a YAML list, model b as a comma-separated string.
        let recipe = dir.appendingPathComponent("merge.yml").path
        try """
            base_model: \(fixture("single_base.safetensors"))
            models:
              - model: \(fixture("single_a.safetensors"))
                block_weights: [\(w["a"]!.map { "\($0)" }.joined(separator: ", "))]
              - model: \(fixture("single_b.safetensors"))
                block_weights: "\(w["b"]!.map { "\($0)" }.joined(separator: ","))"
            """.write(toFile: recipe, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("m.safetensors").path
        var command = try TVTool.parseAsRoot(["merge", "--recipe", recipe, "-o", out, "--quiet"])
        try command.run()
        let got = try Checkpoints.open(out), want = try Checkpoints.open(fixture("expected_single.safetensors"))
        for t in want.tensors {
            let g = try got.tensor(named: t.name).floats(), e = try want.tensor(named: t.name).floats()
            for i in e.indices { XCTAssertEqual(g[i], e[i], accuracy: 1e-6, t.name) }
        }
        // Block weights for some models only are refused with the recipe named, on one line.
        let partial = dir.appendingPathComponent("partial.yml").path
        try """
            base_model: \(fixture("single_base.safetensors"))
            models:
              - model: \(fixture("single_a.safetensors"))
                block_weights: GRAD_V
              - model: \(fixture("single_b.safetensors"))
            """.write(toFile: partial, atomically: true, encoding: .utf8)
        let r = try TVToolBinary.run(["merge", "--recipe", partial, "-o", dir.appendingPathComponent("p.safetensors").path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("partial.yml") && r.stderr.contains("block_weights is set for some models only"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("p.safetensors").path))
    }

    func testSupermergerSpellingAndExplain() throws {
        let (a, b) = try lists()
        let r = try TVToolBinary.run(["merge", fixture("single_base.safetensors"), fixture("single_a.safetensors"), fixture("single_b.safetensors"),
                                      "--block-weights-a", a, "--block-weights-b", b, "--explain", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let rows = obj["tensors"] as! [[String: Any]]
        func weight(_ tensor: String) -> [String: Any]? {
            (rows.first { $0["tensor"] as? String == tensor }?["parameters"] as? [String: Any])?["weight"] as? [String: Any]
        }
        let te = weight("cond_stage_model.transformer.text_model.final_layer_norm.weight")
        XCTAssertEqual(te?["from"] as? String, "block BASE (--block-weights)")
        XCTAssertEqual(te?["value"] as? [Double], [0.3, 0.7])
        XCTAssertEqual(weight("model.diffusion_model.time_embed.0.weight")?["from"] as? String, "block IN00 (--block-weights)")
        XCTAssertEqual(weight("model.diffusion_model.out.2.weight")?["from"] as? String, "block OUT11 (--block-weights)")
        XCTAssertEqual(weight("model.diffusion_model.input_blocks.4.1.norm.weight")?["value"] as? [Double], [0.2, 0.84])
    }

    func testWrongCountAndWrongModelAreUsageErrors() throws {
        let out = TestPaths.scratchDirectory("bw").appendingPathComponent("m.safetensors").path
        let short = try TVToolBinary.run(["merge", fixture("single_base.safetensors"), fixture("single_a.safetensors"),
                                          "--block-weights", Array(repeating: "1", count: 24).joined(separator: ","), "-o", out])
        XCTAssertEqual(short.status, 1)
        XCTAssertTrue(short.stderr.contains("24 values; block weights take 25"), short.stderr)
        let three = try TVToolBinary.run(["merge", fixture("single_base.safetensors"), fixture("single_a.safetensors"), fixture("single_b.safetensors"),
                                          "--block-weights", "FLAT_25", "--block-weights", "FLAT_75", "--block-weights", "GRAD_V", "-o", out])
        XCTAssertEqual(three.status, 1)
        XCTAssertTrue(three.stderr.contains("3 lists for 2 models"), three.stderr)
        let notSD = try TVToolBinary.run(["merge", TestPaths.fixture("engine/base.safetensors"), TestPaths.fixture("engine/ft1.safetensors"),
                                          "--block-weights", "GRAD_V", "-o", out])
        XCTAssertEqual(notSD.status, 1)
        XCTAssertTrue(notSD.stderr.contains("is not an SD 1.x UNet"), notSD.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}

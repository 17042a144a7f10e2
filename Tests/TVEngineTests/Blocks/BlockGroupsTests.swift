import Foundation
import XCTest
@testable import TVEngine
import TVStorage

/// Layer groups for per-block merges and searches: membership against the SD block table
/// (fixtures/blocks/sd1_unet_keys.json, supermerger's own regexes) and the trainer MLP's names,
/// and the engine rules resolving every tensor to the same group as `group(of:)`.
final class BlockGroupsTests: XCTestCase {
    struct Row: Decodable { var diffusers: String; var single_file: String; var block: String }

    private func sdRows() throws -> [Row] {
        try JSONDecoder().decode([Row].self, from: Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("blocks/sd1_unet_keys.json"))))
    }

    private let mlpNames = ["time_embed.0.weight", "time_embed.0.bias", "time_embed.2.weight", "time_embed.2.bias",
                            "input.weight", "input.bias"]
        + (0..<3).flatMap { i in ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "proj.weight"].map { "blocks.\(i).\($0)" } }
        + ["output.weight", "output.bias"]

    /// The group the engine's rule resolution gives `name` (first matching rule), by the weight
    /// value the rule carries: coordinates are 100·group + model.
    private func engineGroup(_ groups: BlockGroups, _ name: String, models: Int = 2) -> Int? {
        let coords = (0..<models).flatMap { m in (0..<groups.count).map { Double(100 * $0 + m) } }
        let params = MergeParameters(global: [:], rules: groups.rules(coords, modelCount: models))
        guard case .perModel(let w)? = params.value("weight", tensor: name) else { return nil }
        XCTAssertEqual(w.count, models)
        XCTAssertEqual(w[1] - w[0], 1, "model order")
        return Int(w[0]) / 100
    }

    func testMLPGroupsAreInputEachResidualBlockAndOutput() throws {
        let g = try BlockGroups.make("auto", tensorNames: mlpNames, path: "mlp.safetensors")
        XCTAssertEqual(g.scheme, "mlp")
        XCTAssertEqual(g.names, ["IN", "B0", "B1", "B2", "OUT"])
        XCTAssertEqual(g.group(of: "time_embed.2.weight"), 0)
        XCTAssertEqual(g.group(of: "input.bias"), 0)
        XCTAssertEqual(g.group(of: "blocks.1.proj.weight"), 2)
        XCTAssertEqual(g.group(of: "output.weight"), 4)
        for name in mlpNames { XCTAssertEqual(engineGroup(g, name), g.group(of: name), name) }
        XCTAssertEqual(g.axisNames(modelLabels: ["w1", "w2"]).prefix(6), ["w1_IN", "w1_B0", "w1_B1", "w1_B2", "w1_OUT", "w2_IN"])
        // Model-major coordinates: model 2's weight of B1 is coordinate 5 + 2.
        let coords = (0..<10).map(Double.init)
        XCTAssertEqual(g.weights(tensor: "blocks.1.fc2.bias", coordinates: coords, modelCount: 2), [2, 7])
        XCTAssertEqual(g.expand(perModel: [0.5, 0.25]), [0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25])
    }

    func testSDGroupsFollowTheMBWBlockTableInBothNamings() throws {
        let rows = try sdRows()
        let full = rows.map(\.single_file) + ["cond_stage_model.transformer.text_model.final_layer_norm.weight"]
        let coarse = try BlockGroups.make("auto", tensorNames: full, path: "sd.safetensors")
        XCTAssertEqual(coarse.scheme, "in-mid-out")
        XCTAssertEqual(coarse.names, ["BASE", "IN", "MID", "OUT"])
        let mbw = try BlockGroups.make("mbw", tensorNames: rows.map(\.diffusers), path: "unet")
        XCTAssertEqual(mbw.names, Array(SDBlocks.names.dropFirst()), "a UNet alone has no BASE group")
        for r in rows {
            let expected = r.block.hasPrefix("IN") ? "IN" : (r.block == "M00" ? "MID" : "OUT")
            XCTAssertEqual(coarse.group(of: r.single_file).map { coarse.names[$0] }, expected, r.single_file)
            XCTAssertEqual(mbw.group(of: r.diffusers).map { mbw.names[$0] }, r.block, r.diffusers)
        }
        for name in full.prefix(80) + full.suffix(5) { XCTAssertEqual(engineGroup(coarse, name), coarse.group(of: name), name) }
    }

    /// `unet` (and `auto` for a UNet): IN, one group per down block, MID, one per up block, OUT, on
    /// the tensor names diffusers saved for a UNet2DModel (fixtures/deme_files/pretrained_unet).
    func testUNetGroupsOfADiffusersUNet2DModel() throws {
        let reader = try Checkpoints.open(TestPaths.fixture("deme_files/pretrained_unet"))
        let names = reader.tensors.filter { $0.dtype.supportsArithmetic }.map(\.name)
        let g = try BlockGroups.make("auto", tensorNames: names, path: "pretrained_unet")
        XCTAssertEqual(g.scheme, "unet")
        XCTAssertEqual(g.names, ["IN", "D0", "D1", "MID", "U0", "U1", "OUT"])
        func expected(_ name: String) -> String {
            let p = name.split(separator: ".")
            switch p[0] {
            case "conv_in", "time_embedding": return "IN"
            case "down_blocks": return "D" + p[1]
            case "mid_block": return "MID"
            case "up_blocks": return "U" + p[1]
            default: return "OUT"
            }
        }
        for name in names {
            XCTAssertEqual(g.group(of: name).map { g.names[$0] }, expected(name), name)
            XCTAssertEqual(engineGroup(g, name), g.group(of: name), name)
        }
        // DeMe's projections sit in their block's group; a tensor outside the UNet's layout is named.
        XCTAssertEqual(g.group(of: "up_blocks.1.channel_projection.weight").map { g.names[$0] }, "U1")
        XCTAssertThrowsError(try BlockGroups.make("unet", tensorNames: names + ["extra.weight"], path: "u")) { e in
            XCTAssertTrue("\(e)".contains("'extra.weight' is in no group of scheme unet"), "\(e)")
        }
        XCTAssertThrowsError(try BlockGroups.make("unet", tensorNames: mlpNames, path: "mlp.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("mlp.safetensors is not a diffusers UNet"), "\(e)")
        }
        // auto falls back to top when the unet scheme cannot place a tensor.
        XCTAssertEqual(try BlockGroups.make("auto", tensorNames: names + ["extra.weight"], path: "u").scheme, "top")
    }

    func testTopGroupsAndRefusals() throws {
        let names = ["encoder.a.weight", "encoder.b", "decoder.x", "head", "head2.w"]
        let g = try BlockGroups.make("auto", tensorNames: names, path: "m.safetensors")
        XCTAssertEqual(g.scheme, "top")
        XCTAssertEqual(g.names, ["encoder", "decoder", "head", "head2"])
        XCTAssertEqual(g.group(of: "head"), 2)
        XCTAssertEqual(g.group(of: "head2.w"), 3, "the 'head' group does not swallow 'head2'")
        for name in names { XCTAssertEqual(engineGroup(g, name), g.group(of: name), name) }
        XCTAssertThrowsError(try BlockGroups.make("mlp", tensorNames: names, path: "m.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("not tvtool's trainer MLP"), "\(e)")
        }
        XCTAssertThrowsError(try BlockGroups.make("in-mid-out", tensorNames: names, path: "m.safetensors"))
        XCTAssertThrowsError(try BlockGroups.make("layers", tensorNames: names, path: "m.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("unknown scheme 'layers'"), "\(e)")
        }
    }
}

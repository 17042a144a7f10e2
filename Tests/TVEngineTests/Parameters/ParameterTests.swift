import XCTest
@testable import TVEngine

final class ParameterTests: XCTestCase {
    func testFirstMatchingRuleThatSetsTheKeyWins() {
        let p = MergeParameters(global: ["weight": .scalar(1), "density": .scalar(0.5)], rules: [
            TensorRule(pattern: .glob("down_blocks.*"), values: ["weight": .scalar(0.2)]),
            TensorRule(pattern: .regex("^down_blocks\\.1\\."), values: ["weight": .scalar(0.9), "density": .scalar(0.1)]),
            TensorRule(pattern: .substring("mid"), values: ["weight": .perModel([1, 2])]),
        ])
        XCTAssertEqual(p.value("weight", tensor: "down_blocks.1.conv.weight"), .scalar(0.2))
        XCTAssertEqual(p.value("density", tensor: "down_blocks.1.conv.weight"), .scalar(0.1))
        XCTAssertEqual(p.value("weight", tensor: "mid_block.x"), .perModel([1, 2]))
        XCTAssertEqual(p.value("weight", tensor: "up_blocks.0"), .scalar(1))
    }

    func testRulesAndRecipeFiles() throws {
        let dir = TestPaths.scratchDirectory("rules")
        let rules = dir.appendingPathComponent("rules.yaml").path
        try """
        rules:
          - match: "down.*"
            weight: [0.5, 0.5]
          - regex: '^mid\\.block'
            density: 0.3
        """.write(toFile: rules, atomically: true, encoding: .utf8)
        let r = try RulesFile.load(rules)
        XCTAssertEqual(r.count, 2)
        XCTAssertEqual(r[0].pattern, .glob("down.*"))
        XCTAssertEqual(r[1].values["density"], .scalar(0.3))
        XCTAssertEqual(r[1].pattern, .regex("^mid\\.block"))
        XCTAssertTrue(r[1].pattern.matches("mid.block.x"))
        XCTAssertFalse(r[1].pattern.matches("midXblock"))

        let recipe = dir.appendingPathComponent("merge.yml").path
        try """
        merge_method: ties
        base_model: base.safetensors
        models:
          - model: a.safetensors
            parameters: {weight: 0.3, density: 0.5}
          - model: /abs/b.safetensors
            parameters: {weight: 0.7, density: 0.5}
        parameters:
          lambda: 0.9
          normalize: true
          trim: global
          gamma: [{filter: "up", value: 0.1}, {value: 0.01}]
        dtype: bfloat16
        seed: 3
        """.write(toFile: recipe, atomically: true, encoding: .utf8)
        let m = try RecipeFile.load(recipe)
        XCTAssertEqual(m.method, "ties")
        XCTAssertEqual(m.base, dir.appendingPathComponent("base.safetensors").path)
        XCTAssertEqual(m.models.last, "/abs/b.safetensors")
        XCTAssertEqual(m.parameters.global["weight"], .perModel([0.3, 0.7]))
        XCTAssertEqual(m.parameters.global["lambda"], .scalar(0.9))
        XCTAssertEqual(m.parameters.global["normalize"], .scalar(1))
        XCTAssertEqual(m.parameters.global["gamma"], .scalar(0.01))
        XCTAssertEqual(m.parameters.rules.first?.pattern, .substring("up"))
        XCTAssertEqual(m.parameters.options["trim"], "global")
        XCTAssertEqual(m.outDType, .bf16)
        XCTAssertEqual(m.seed, 3)
    }

    func testBadRulesAreErrors() throws {
        let dir = TestPaths.scratchDirectory("rules")
        let path = dir.appendingPathComponent("bad.json").path
        try #"[{"regex": "(", "weight": 1}]"#.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RulesFile.load(path))
        try #"[{"weight": 1}]"#.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RulesFile.load(path))
    }
}

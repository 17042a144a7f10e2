import XCTest
import TVStorage
import TVEngine
@testable import tvtool

/// diff / merge / apply / interp end to end on the engine fixtures (files in, files out).
final class EngineCommandsTests: XCTestCase {
    func fixture(_ name: String) -> String { TestPaths.fixture("engine/" + name) }

    func requireSafetensors() throws {
        do { _ = try Checkpoints.open(fixture("base.safetensors")) } catch StorageError.notSupportedYet {
            throw XCTSkip("reading safetensors is not supported on this branch yet")
        }
    }

    func run(_ args: [String]) throws {
        var command = try TVTool.parseAsRoot(args)
        try command.run()
    }

    func floats(_ path: String, _ tensor: String) throws -> [Float] { try Checkpoints.open(path).tensor(named: tensor).floats() }

    func testMergeMatchesNumpyAndRecordsRecipe() throws {
        try requireSafetensors()
        let out = TestPaths.scratchDirectory("cli").appendingPathComponent("m.safetensors").path
        try run(["merge", fixture("base.safetensors"), fixture("ft1.safetensors"), fixture("ft2.safetensors"),
                 fixture("ft3.safetensors"), fixture("ft4.safetensors"), "--weights", "0.1,0.1,0.2,0.5", "-o", out, "--quiet"])
        let got = try floats(out, "down.0.weight"), want = try floats(fixture("expected_task_arithmetic.safetensors"), "down.0.weight")
        for i in got.indices { XCTAssertEqual(got[i], want[i], accuracy: 1e-5) }
        let recipe = try Checkpoints.open(out).metadata[Provenance.metadataKey] ?? ""
        XCTAssertTrue(recipe.contains("\"task_arithmetic\"") && recipe.contains("0.5"), recipe)
    }

    func testMergeRecipeAndRules() throws {
        try requireSafetensors()
        let dir = TestPaths.scratchDirectory("cli")
        let rules = dir.appendingPathComponent("rules.json").path
        try #"{"rules": [{"match": "down.*", "weight": [0.5, 0.5, 0, 0]}]}"#.write(toFile: rules, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("r.safetensors").path
        try run(["merge", fixture("base.safetensors"), fixture("ft1.safetensors"), fixture("ft2.safetensors"),
                 fixture("ft3.safetensors"), fixture("ft4.safetensors"), "--weights", "0.1,0.1,0.2,0.5", "--rules", rules, "-o", out, "--quiet"])
        for name in ["down.0.weight", "up.1.weight"] {
            let got = try floats(out, name), want = try floats(fixture("expected_rules.safetensors"), name)
            for i in got.indices { XCTAssertEqual(got[i], want[i], accuracy: 1e-5) }
        }
        let recipe = dir.appendingPathComponent("ties.yml").path
        try """
        merge_method: ties
        base_model: \(fixture("base.safetensors"))
        models:
        \((1...4).map { "  - model: \(fixture("ft\($0).safetensors"))\n    parameters: {weight: \(EngineFixturesWeights.w[$0 - 1]), density: 0.4}" }.joined(separator: "\n"))
        """.write(toFile: recipe, atomically: true, encoding: .utf8)
        let out2 = dir.appendingPathComponent("t.safetensors").path
        try run(["merge", "--recipe", recipe, "-o", out2, "--quiet"])
        let got = try floats(out2, "mid.attn.weight"), want = try floats(fixture("expected_ties.safetensors"), "mid.attn.weight")
        for i in got.indices { XCTAssertEqual(got[i], want[i], accuracy: 1e-5) }
    }

    func testDiffApplyInterp() throws {
        try requireSafetensors()
        let dir = TestPaths.scratchDirectory("cli")
        let tau = dir.appendingPathComponent("tau.safetensors").path
        try run(["diff", fixture("base.safetensors"), fixture("ft1.safetensors"), "-o", tau, "--quiet"])
        XCTAssertEqual(try floats(tau, "up.1.weight"), try floats(fixture("expected_tau1.safetensors"), "up.1.weight"))
        let applied = dir.appendingPathComponent("a.safetensors").path
        try run(["apply", fixture("base.safetensors"), fixture("tau1.safetensors"), fixture("tau2.safetensors"), "--scale", "0.7", "-o", applied, "--quiet"])
        let got = try floats(applied, "down.0.bias"), want = try floats(fixture("expected_apply.safetensors"), "down.0.bias")
        for i in got.indices { XCTAssertEqual(got[i], want[i], accuracy: 1e-5) }
        let mid = dir.appendingPathComponent("i.safetensors").path
        try run(["interp", fixture("base.safetensors"), fixture("ft1.safetensors"), "--t", "0.3", "--slerp", "-o", mid, "--quiet"])
        let s = try floats(mid, "mid.attn.weight"), e = try floats(fixture("expected_slerp.safetensors"), "mid.attn.weight")
        for i in s.indices { XCTAssertEqual(s[i], e[i], accuracy: 1e-5) }
    }

    func testRefusesToOverwriteAnInput() throws {
        try requireSafetensors()
        let dir = TestPaths.scratchDirectory("cli")
        let copy = dir.appendingPathComponent("ft.safetensors").path
        try FileManager.default.copyItem(atPath: fixture("ft1.safetensors"), toPath: copy)
        let before = try Data(contentsOf: URL(fileURLWithPath: copy))
        XCTAssertThrowsError(try run(["merge", fixture("base.safetensors"), copy, "-o", copy, "--quiet"]))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: copy)), before)
    }
}

enum EngineFixturesWeights { static let w = [0.1, 0.1, 0.2, 0.5] }

extension EngineCommandsTests {
    /// A tensor name with a newline (legal in safetensors) in an engine error still prints as one
    /// line, with the control character escaped, and exits 2.
    func testErrorNamingOddTensorIsOneLine() throws {
        let dir = TestPaths.scratchDirectory("cli-oneline")
        let name = "odd\nname\u{1B}[31m"
        func write(_ file: String, shape: [Int]) throws -> String {
            let path = dir.appendingPathComponent(file).path
            let t = try Tensor.fromFloats([Float](repeating: 1, count: shape.reduce(1, *)), shape: shape)
            let w = try Checkpoints.create(path, tensors: [t.info(name: name)], metadata: [:])
            try w.write(t, named: name)
            try w.finish()
            return path
        }
        let base = try write("base.safetensors", shape: [2]), ft = try write("ft.safetensors", shape: [3])
        let r = try TVToolBinary.run(["merge", base, ft, "--weights", "0.5", "-o", dir.appendingPathComponent("o.safetensors").path, "--quiet"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("odd\\u{a}name\\u{1b}[31m"), r.stderr)
    }
}

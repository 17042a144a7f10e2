import XCTest
import ArgumentParser
import TVStorage
@testable import tvtool

/// One grammar for every command: negative numbers as values, non-finite values rejected, one
/// name per concept (old spellings still accepted, not shown), exit codes 1 (usage) / 2 (input).
final class CommandGrammarTests: XCTestCase {
    func fixture(_ name: String) -> String { TestPaths.fixture("engine/" + name) }
    func floats(_ path: String, _ tensor: String) throws -> [Float] { try Checkpoints.open(path).tensor(named: tensor).floats() }

    /// What the binary does with argv before ArgumentParser, then ArgumentParser's parse.
    func parse(_ args: [String]) throws -> ParsableCommand { try TVTool.parseAsRoot(ArgumentPrepass.normalize(args)) }

    func testPrepassJoinsNegativeNumbersOnlyAfterLongOptions() throws {
        XCTAssertEqual(try ArgumentPrepass.normalize(["apply", "b", "t", "--scale", "-1", "-o", "x"]), ["apply", "b", "t", "--scale=-1", "-o", "x"])
        XCTAssertEqual(try ArgumentPrepass.normalize(["merge", "--weights", "-1,0.5", "--lambda", "-.5", "--t", "-1e-3"]),
                       ["merge", "--weights=-1,0.5", "--lambda=-.5", "--t=-1e-3"])
        XCTAssertEqual(try ArgumentPrepass.normalize(["landscape", "--grid", "-0.2:1.2:29"]), ["landscape", "--grid=-0.2:1.2:29"])
        // Options, flags and `--` are left alone.
        XCTAssertEqual(try ArgumentPrepass.normalize(["merge", "--json", "-o", "x", "--quiet"]), ["merge", "--json", "-o", "x", "--quiet"])
        XCTAssertEqual(try ArgumentPrepass.normalize(["merge", "--", "--t", "-1"]), ["merge", "--", "--t", "-1"])
        XCTAssertEqual(try ArgumentPrepass.normalize(["merge", "--scale=-1"]), ["merge", "--scale=-1"])
    }

    /// Every numeric option of every command parses a negative value written without `=`
    /// (range checks happen later, when the command runs).
    func testEveryCommandParsesNegativeNumericValues() throws {
        let cases: [[String]] = [
            ["merge", "b", "m", "-o", "x", "--weights", "-1,0.5", "--density", "-0.1", "--lambda", "-2", "--t", "-0.5", "--gamma", "-0.01", "--threads", "-1"],
            ["apply", "b", "t", "--scale", "-1", "-o", "x"],
            ["apply", "b", "t", "u", "--scale", "1,-1", "-o", "x"],
            ["interp", "a", "b", "--t", "-0.5", "-o", "x"],
            ["train", "-o", "x", "--lr", "-1e-3", "--beta1", "-0.9", "--weight-decay", "-1", "--ema-decay", "-0.5", "--ema-power", "-1", "--steps", "-5"],
            ["sample", "m", "-o", "g.png", "--eta", "-0.5", "--sampling-steps", "-3", "--scale", "-2"],
            ["eval", "m", "--ranges", "-1", "--eval-split", "-2", "--fd-samples", "-1"],
            ["finetune", "p", "--t-range", "0:250", "--steps", "-1", "--p", "-0.3", "--consistency", "-1", "--lr", "-5e-5", "-o", "x"],
            ["deme", "--p", "-0.5", "--lr", "-1", "--consistency", "-1", "--jobs", "-2"],
            ["search", "b", "m", "--grid", "-1:1:3", "-o", "d", "--timeout", "-1", "--jobs", "-1"],
            ["landscape", "b", "a", "c", "--grid", "-0.2:1.2:29", "-o", "d", "--eval-repeats", "-1"],
            ["diff", "b", "m", "--top", "-1"],
        ]
        for args in cases {
            XCTAssertNoThrow(try parse(args), args.joined(separator: " "))
        }
        let m = try XCTUnwrap(try parse(["merge", "b", "m", "-o", "x", "--weights", "-1,0.5", "--t", "-0.5"]) as? MergeCommand)
        XCTAssertEqual(m.weights, "-1,0.5")
        XCTAssertEqual(m.t, -0.5)
        let i = try XCTUnwrap(try parse(["interp", "a", "b", "--t", "-0.5", "-o", "x"]) as? InterpCommand)
        XCTAssertEqual(i.t, -0.5)
    }

    /// The three commands of the issue, run: results against theta + sum_i w_i (theta_i - theta)
    /// computed here from the fixture's tensors in Double.
    func testNegativeValuesRunEndToEnd() throws {
        let dir = TestPaths.scratchDirectory("cli-grammar")
        let base = fixture("base.safetensors"), ft1 = fixture("ft1.safetensors"), ft2 = fixture("ft2.safetensors")
        let b = try floats(base, "down.0.weight"), f1 = try floats(ft1, "down.0.weight"), f2 = try floats(ft2, "down.0.weight")

        let merged = dir.appendingPathComponent("m.safetensors").path
        var r = try TVToolBinary.run(["merge", base, ft1, ft2, "--weights", "-1,0.5", "-o", merged, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var got = try floats(merged, "down.0.weight")
        for j in got.indices {
            XCTAssertEqual(Double(got[j]), Double(b[j]) - (Double(f1[j]) - Double(b[j])) + 0.5 * (Double(f2[j]) - Double(b[j])), accuracy: 1e-5)
        }

        let interp = dir.appendingPathComponent("i.safetensors").path
        r = try TVToolBinary.run(["interp", base, ft1, "--t", "-0.5", "-o", interp, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        got = try floats(interp, "down.0.weight")
        for j in got.indices { XCTAssertEqual(Double(got[j]), Double(b[j]) - 0.5 * (Double(f1[j]) - Double(b[j])), accuracy: 1e-5) }

        let tau = dir.appendingPathComponent("tau.safetensors").path, applied = dir.appendingPathComponent("a.safetensors").path
        r = try TVToolBinary.run(["diff", base, ft1, "-o", tau, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try TVToolBinary.run(["apply", base, tau, "--scale", "-1", "-o", applied, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        got = try floats(applied, "down.0.weight")
        for j in got.indices { XCTAssertEqual(Double(got[j]), 2 * Double(b[j]) - Double(f1[j]), accuracy: 1e-5) }
    }

    func testNonFiniteValuesExitOneNamingTheOption() throws {
        let out = TestPaths.scratchDirectory("cli-grammar").appendingPathComponent("nf.safetensors").path
        let base = fixture("base.safetensors"), ft1 = fixture("ft1.safetensors"), ft2 = fixture("ft2.safetensors")
        let cases: [([String], String)] = [
            (["merge", base, ft1, ft2, "--weights", "nan,0.5", "-o", out], "--weights"),
            (["merge", base, ft1, ft2, "--weights", "0.5,-inf", "-o", out], "--weights"),
            (["merge", base, ft1, ft2, "--lambda=inf", "-o", out], "--lambda"),
            (["merge", base, ft1, ft2, "--param", "lambda=1e999", "-o", out], "--param"),
            (["interp", base, ft1, "--t", "NaN", "-o", out], "--t"),
            (["apply", base, ft1, "--scale", "-Infinity", "-o", out], "--scale"),
            (["train", "--lr", "nan", "-o", out], "--lr"),
        ]
        for (args, option) in cases {
            let r = try TVToolBinary.run(args)
            XCTAssertEqual(r.status, 1, args.joined(separator: " ") + ": " + r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(option) && r.stderr.contains("not a finite number"), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
        // YAML can spell NaN (.nan): a rule's value is checked like an option's, naming the rule.
        let rules = TestPaths.scratchDirectory("cli-grammar").appendingPathComponent("nan.yml").path
        try "rules:\n  - match: \"down.*\"\n    weight: [.nan, 1]\n".write(toFile: rules, atomically: true, encoding: .utf8)
        let r = try TVToolBinary.run(["merge", base, ft1, ft2, "--rules", rules, "-o", out])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("rule 1 (glob:down.*)") && r.stderr.contains("not a finite number"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testOldSpellingsAreHiddenAliasesOfTheCurrentNames() throws {
        let renamed: [(command: [String], old: String, new: String, value: String)] = [
            (["merge", "b", "m", "-o", "x"], "--out-dtype", "--dtype", "f16"),
            (["apply", "b", "t", "-o", "x"], "--out-dtype", "--dtype", "f16"),
            (["interp", "a", "b", "--t", "0.5", "-o", "x"], "--out-dtype", "--dtype", "f16"),
            (["diff", "b", "m"], "--out-dtype", "--dtype", "f16"),
            (["sample", "m", "-o", "g.png"], "--ddim-steps", "--sampling-steps", "7"),
            (["eval", "m"], "--ddim-steps", "--sampling-steps", "7"),
            (["eval", "m"], "--held-out", "--eval-split", "2"),
            (["train", "-o", "x"], "--ema-max", "--ema-decay", "0.5"),
            (["finetune", "p", "--steps", "1", "-o", "x"], "--range", "--t-range", "0:250"),
            (["deme"], "--workers", "--jobs", "3"),
        ]
        for c in renamed {
            let viaOld = try parse(c.command + [c.old, c.value]), viaNew = try parse(c.command + [c.new, c.value])
            XCTAssertEqual(String(describing: viaOld), String(describing: viaNew), "\(c.old) → \(c.new)")
            XCTAssertTrue(String(describing: viaNew).contains(c.value), String(describing: viaNew))
            let help = TVTool.helpMessage(for: type(of: viaNew))
            XCTAssertTrue(help.contains(c.new), "\(c.command[0]) --help shows \(c.new)")
            XCTAssertFalse(help.contains(c.old + " ") || help.contains(c.old + ","), "\(c.command[0]) --help hides \(c.old)")
        }
        // --eval-split means the same in eval, search and landscape, with the same default.
        let e = try XCTUnwrap(try parse(["eval", "m"]) as? EvalCommand)
        let s = try XCTUnwrap(try parse(["search", "b", "m", "-o", "d"]) as? SearchCommand)
        XCTAssertEqual(e.evalSplit, 1)
        XCTAssertEqual(s.evaluation.evalSplit, 1)
    }

    func testUsageMistakesExitOneBadInputExitsTwo() throws {
        let out = TestPaths.scratchDirectory("cli-grammar").appendingPathComponent("u.safetensors").path
        let base = fixture("base.safetensors"), ft1 = fixture("ft1.safetensors"), ft2 = fixture("ft2.safetensors")
        let usage: [([String], String)] = [
            (["merge", base, ft1, ft2, "--method", "nope", "-o", out], "unknown merge method 'nope'"),
            (["merge", base, ft1, ft2, "--weights", "1,2,3", "-o", out], "3 values for 2 models"),
            (["merge", base, ft1, ft2, "--method", "ties", "--density", "0", "-o", out], "outside (0, 1]"),
            (["merge", base, ft1, ft2, "--method", "ties", "--density", "1.5", "-o", out], "outside (0, 1]"),
            (["merge", base, ft1, ft2, "--method", "lerp", "-o", out], "exactly 1 model"),
            (["merge", base, ft1, ft2, "--gamma", "0.1", "-o", out], "no parameter 'gamma'"),
            (["merge", base, ft1, ft2, "--dtype", "f8", "-o", out], "--dtype"),
            (["merge", base, ft1, ft2, "--weights", "a,b", "-o", out], "weights"),
            (["apply", base, ft1, "--scale", "1,2", "-o", out], "2 values for 1 models"),
            (["merge", base, ft1, "--no-such-option", "-o", out], "no-such-option"),
            (["search", base, ft1, "--grid", "abc", "-o", TestPaths.scratchDirectory("cli-grammar-s").path], "grid 'abc'"),
            (["finetune", TestPaths.fixture("deme/pretrained.safetensors"), "--t-range", "300:200", "--steps", "1", "-o", out], "300:200"),
            (["eval", TestPaths.fixture("deme/pretrained.safetensors"), "--eval-split", "3"], "--eval-split"),
        ]
        for (args, fragment) in usage {
            let r = try TVToolBinary.run(args)
            XCTAssertEqual(r.status, 1, args.joined(separator: " ") + ": " + r.stderr)
            XCTAssertTrue(r.stderr.contains(fragment), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
        let dir = TestPaths.scratchDirectory("cli-grammar")
        let broken = dir.appendingPathComponent("broken.safetensors").path
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: broken))
        let badRules = dir.appendingPathComponent("bad.yml").path
        try "rules: [unclosed".write(toFile: badRules, atomically: true, encoding: .utf8)
        let input: [[String]] = [
            ["merge", base, ft1, dir.appendingPathComponent("missing.safetensors").path, "-o", out],
            ["merge", base, ft1, broken, "-o", out],
            ["merge", base, ft1, fixture("ft_bad_shape.safetensors"), "-o", out],
            ["merge", base, ft1, "--rules", badRules, "-o", out],
        ]
        for args in input {
            let r = try TVToolBinary.run(args)
            XCTAssertEqual(r.status, 2, args.joined(separator: " ") + ": " + r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").filter { !$0.hasPrefix("note:") }.count, 1, r.stderr)
        }
    }

    func testRuleMatchingNoTensorWarnsAndExplainListsEachTensorsParameters() throws {
        let dir = TestPaths.scratchDirectory("cli-grammar")
        let rules = dir.appendingPathComponent("rules.yml").path
        try """
        rules:
          - match: "down.*"
            weight: [0.5, 0.25]
          - regex: '^nothing\\.'
            density: 0.3
          - contains: "attn"
            density: 0.8
        """.write(toFile: rules, atomically: true, encoding: .utf8)
        let base = fixture("base.safetensors"), ft1 = fixture("ft1.safetensors"), ft2 = fixture("ft2.safetensors")
        let r = try TVToolBinary.run(["merge", base, ft1, ft2, "--method", "ties", "--density", "0.5", "--rules", rules, "--explain", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning: rule 2 (regex:^nothing\\.) matches no floating-point tensor"), r.stderr)
        XCTAssertFalse(r.stderr.contains("rule 1") || r.stderr.contains("rule 3"), r.stderr)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let tensors = try XCTUnwrap(doc["tensors"] as? [[String: Any]])
        func param(_ tensor: String, _ name: String) -> [String: Any]? {
            (tensors.first { $0["tensor"] as? String == tensor }?["parameters"] as? [String: Any])?[name] as? [String: Any]
        }
        XCTAssertEqual(param("down.0.weight", "weight")?["value"] as? [Double], [0.5, 0.25])
        XCTAssertEqual(param("down.0.weight", "weight")?["from"] as? String, "rule 1 (glob:down.*)")
        XCTAssertEqual(param("down.0.weight", "density")?["value"] as? Double, 0.5)
        XCTAssertEqual(param("down.0.weight", "density")?["from"] as? String, "global")
        XCTAssertEqual(param("mid.attn.weight", "density")?["value"] as? Double, 0.8)
        XCTAssertEqual(param("mid.attn.weight", "density")?["from"] as? String, "rule 3 (substring:attn)")
        XCTAssertEqual(param("mid.attn.weight", "lambda")?["from"] as? String, "default")
        XCTAssertEqual(param("up.1.weight", "trim")?["value"] as? String, "per_tensor")
        XCTAssertNil(tensors.first { $0["tensor"] as? String == "step" }, "integer tensors are copied, not computed")
        // --explain writes nothing and needs no -o; text form: one line per tensor.
        let text = try TVToolBinary.run(["merge", base, ft1, ft2, "--rules", rules, "--method", "ties", "--explain"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("down.0.weight  weight=[0.5, 0.25] (rule 1 (glob:down.*))"), text.stdout)
    }

    func testListMethodsIsGeneratedFromTheRegistry() throws {
        let r = try TVToolBinary.run(["merge", "--list-methods"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for name in ["task_arithmetic", "linear", "lerp", "slerp", "ties", "dare_linear", "dare_ties", "breadcrumbs", "model_stock"] {
            XCTAssertTrue(r.stdout.contains("\n" + name + "  ") || r.stdout.hasPrefix(name + "  "), name)
        }
        XCTAssertTrue(r.stdout.contains("density   per-model           default 1           in (0, 1]"), r.stdout)
        let help = try TVToolBinary.run(["merge", "--help"])
        XCTAssertTrue(help.stdout.contains("breadcrumbs      weight (1), density (0.9, [0, 1]), gamma (0.01, [0, 1]),"), help.stdout)
        XCTAssertTrue(help.stdout.contains("--list-methods") && help.stdout.contains("--explain"))
    }
}

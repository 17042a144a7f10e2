import XCTest
@testable import tvtool

/// Every command's `--json` output in one key style: snake_case keys, numbers as numbers (no
/// number written as a string), valid JSON even where a value is not finite.
final class JSONOutputTests: XCTestCase {
    /// Objects whose keys are data (checkpoint metadata, dtype names), not field names.
    let dataKeyed: Set<String> = ["metadata", "totals_by_dtype"]

    func check(_ json: String, _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        var problems: [String] = []
        func walk(_ o: Any, _ path: String) {
            if let d = o as? [String: Any] {
                for (k, v) in d {
                    if k.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) == nil { problems.append("key \(path)/\(k)") }
                    if !dataKeyed.contains(k) { walk(v, path + "/" + k) }
                }
            } else if let a = o as? [Any] {
                for v in a { walk(v, path + "[]") }
            } else if let s = o as? String, Double(s) != nil {
                problems.append("number as string \(path) = \"\(s)\"")
            }
        }
        walk(object, "")
        XCTAssertTrue(problems.isEmpty, "\(label): \(problems.prefix(5))", file: file, line: line)
    }

    func run(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try TVToolBinary.run(args)
        XCTAssertEqual(r.status, 0, args.joined(separator: " ") + ": " + r.stderr, file: file, line: line)
        try check(r.stdout, args.prefix(2).joined(separator: " "), file: file, line: line)
        return r.stdout
    }

    func testEveryCommandsJSONIsSnakeCaseWithNumbersAsNumbers() throws {
        let dir = TestPaths.scratchDirectory("cli-json")
        func p(_ name: String) -> String { dir.appendingPathComponent(name).path }
        func fx(_ name: String) -> String { TestPaths.fixture("engine/" + name) }
        let base = fx("base.safetensors"), ft1 = fx("ft1.safetensors"), ft2 = fx("ft2.safetensors")

        _ = try run(["inspect", base, "--json"])
        _ = try run(["convert", base, p("c.safetensors"), "--dtype", "f16", "--json", "--quiet"])
        _ = try run(["diff", base, ft1, ft2, "--json", "--quiet"])
        _ = try run(["merge", base, ft1, ft2, "--weights", "0.3,0.7", "-o", p("m.safetensors"), "--json", "--quiet"])
        _ = try run(["merge", base, ft1, ft2, "--method", "ties", "--explain", "--json"])
        _ = try run(["merge", "--list-methods", "--json"])
        _ = try run(["apply", base, fx("expected_tau1.safetensors"), "-o", p("a.safetensors"), "--json", "--quiet"])
        _ = try run(["interp", base, ft1, "--t", "0.5", "-o", p("i.safetensors"), "--json", "--quiet"])

        // The trainer side on a tiny model: train, sample, eval, two finetunes, then the sweeps.
        let tiny = ["--width", "16", "--blocks", "1", "--time-embedding", "8", "--batch", "8", "--quiet"]
        let model = p("tr.safetensors")
        _ = try run(["train", "--data", "digits", "--steps", "3", "--checkpoint-every", "0", "-o", model, "--json"] + tiny)
        _ = try run(["sample", model, "-n", "2", "-o", p("g.png"), "--sampling-steps", "2", "--json"])
        _ = try run(["eval", model, "--fd-samples", "4", "--sampling-steps", "2", "--json"])
        for (name, range) in [("fa", "0:500"), ("fb", "500:1000")] {
            _ = try run(["finetune", model, "--t-range", range, "--steps", "2", "--batch", "8", "--no-projections", "-o", p(name + ".safetensors"), "--json"])
        }
        let sweepOptions = ["--grid", "0:1:2", "--eval-repeats", "1", "--json", "--quiet"]
        _ = try run(["search", model, p("fa.safetensors"), p("fb.safetensors"), "-o", p("search")] + sweepOptions)
        _ = try run(["landscape", model, p("fa.safetensors"), p("fb.safetensors"), "-o", p("land")] + sweepOptions)
        _ = try run(["sweep", "collect", p("search"), "-o", p("collected"), "--json"])
        let deme = try run(["deme", "--pretrained", model, "--ranges", "2", "--steps-per-range", "2", "--batch", "8", "--grid", "0:1:2",
                            "--refine", "0", "--fd-seeds", "", "--eval-timesteps", "1", "--jobs", "1", "-o", p("deme"), "--json"])
        XCTAssertTrue(deme.contains("\"held_out_mse\""), deme)
    }

    func testNonFiniteValuesBecomeNull() throws {
        let text = try JSONText.encode(["a": Double.nan, "b": [1.0, -Double.infinity], "c": "nan", "d": Float.infinity] as [String: Any])
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertTrue(o["a"] is NSNull)
        XCTAssertTrue((o["b"] as? [Any])?.last is NSNull)
        XCTAssertEqual(o["c"] as? String, "nan", "strings from data stay strings")
        XCTAssertTrue(o["d"] is NSNull)
        XCTAssertEqual(JSONText.snakeCase("heldOutMSE"), "held_out_mse")
        XCTAssertEqual(JSONText.snakeCase("epsilonMSEValue"), "epsilon_mse_value")
        XCTAssertEqual(JSONText.snakeCase("cpuMillisecondsPerStep"), "cpu_milliseconds_per_step")
        XCTAssertEqual(JSONText.snakeCase("already_snake"), "already_snake")
        XCTAssertEqual(JSONText.snakeCase("train / search / report images"), "train_search_report_images")
        XCTAssertEqual(JSONText.snakeCase("merged model"), "merged_model")
        XCTAssertEqual(JSONText.snakeCase("Fréchet samples"), "frechet_samples")
    }
}

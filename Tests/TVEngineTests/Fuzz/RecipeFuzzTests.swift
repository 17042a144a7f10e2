import XCTest
@testable import TVEngine

/// Fuzz target for YAML/JSON recipes and rules (Yams + tvtool's recipe reading): typed one-line
/// errors only, and bounded work (alias bombs, deep nesting).
final class RecipeFuzzTests: XCTestCase {
    static let corpus = [
        """
        merge_method: ties
        base_model: base.safetensors
        models:
          - model: ft1.safetensors
            parameters: {weight: 0.5, density: 0.4}
          - model: ft2.safetensors
            parameters: {weight: 0.5, density: 0.4}
        parameters: {lambda: 1.0, normalize: true, trim: per_tensor}
        dtype: float16
        seed: 7
        rules:
          - {match: "down_blocks", density: 0.2}
        """,
        #"{"base_model": "b.safetensors", "models": ["a.safetensors"], "parameters": {"weight": [{"filter": "x", "value": 0.3}, {"value": 1}]}}"#,
        "base_model: &b b.safetensors\nmodels: [*b, *b]\nseed: 18446744073709551615\n",
    ]

    func testFuzzRecipes() throws {
        var fuzz = Fuzzer(target: "recipe")
        let path = TestPaths.scratchDirectory("fuzz-recipe").appendingPathComponent("r.yaml").path
        let inserts = ["&a ", "*a", "[", "{", "<<: *a\n", "!!binary ", "? ", "- ", ".nan", "1e999", "- &x [*x]\n", "\u{1b}[2J", "\t"]
        while fuzz.next() {
            var bytes = fuzz.mutate(Array(Self.corpus[fuzz.int(0..<Self.corpus.count)].utf8))
            if fuzz.chance(0.5) {
                let insert = Array(inserts[fuzz.int(0..<inserts.count)].utf8)
                bytes.insert(contentsOf: insert, at: fuzz.int(0..<(bytes.count + 1)))
            }
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            do { _ = try RecipeFile.load(path) } catch {
                XCTAssertTrue(error is EngineError, "untyped error \(type(of: error)): \(error)")
                XCTAssertFalse("\(error)".contains("\n"), "multi-line error: \(error)")
            }
        }
        print("recipe fuzz: \(fuzz.summary)")
    }

    /// Issue 13: 9 nested levels of 9 aliases (414 bytes) expanded without end.
    func testAliasBombIsBounded() throws {
        var text = "a: &a [x, x, x, x, x, x, x, x, x]\n"
        var previous = "a"
        for name in "bcdefghij" {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]\n"
            previous = String(name)
        }
        text += "base_model: b.safetensors\nmodels: [m.safetensors]\n"
        let path = TestPaths.scratchDirectory("bomb").appendingPathComponent("bomb.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let start = Date()
        XCTAssertThrowsError(try RecipeFile.load(path)) { error in
            XCTAssertTrue("\(error)".contains("expands to more than"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        let deep = String(repeating: "[", count: 100_000)
        XCTAssertThrowsError(try YAMLDocument.parse(deep, source: "deep.yaml")) { error in
            XCTAssertTrue("\(error)".contains("nests more than"), "\(error)")
        }
    }

    /// Found by this fuzzer: Yams force-unwraps mapping keys as strings (a crash on `? [a]: b`).
    func testNonScalarKeysAreAnError() throws {
        for text in ["? [a, b]\n: 1\n", "{[1]: x}", "? {k: v}\n: 1\n", "a: &a [1]\n? *a\n: 2\n", "s: !!set {? [1]}"] {
            XCTAssertThrowsError(try YAMLDocument.parse(text, source: "k.yaml"), text) { error in
                XCTAssertTrue("\(error)".contains("mapping keys must be plain strings"), "\(error)")
            }
        }
    }

    /// Issue 13: a seed beyond UInt64 trapped, NaN became 0; both are errors now.
    func testSeedMustBeAWholeNumberInRange() throws {
        for bad in [".nan", "-1", "1.5", "18446744073709551616", "99999999999999999999999", ".inf", "abc"] {
            XCTAssertThrowsError(try RecipeFile.parse(["base_model": "b", "models": ["m"], "seed": try parsed(bad)], source: "r.yaml", relativeTo: "/"),
                                 bad) { error in
                XCTAssertTrue("\(error)".contains("seed must be a whole number"), "\(error)")
            }
        }
        for (good, value) in [("0", UInt64(0)), ("42", 42), ("18446744073709551615", .max)] {
            XCTAssertEqual(try RecipeFile.parse(["base_model": "b", "models": ["m"], "seed": try parsed(good)], source: "r", relativeTo: "/").seed, value)
        }
    }

    private func parsed(_ scalar: String) throws -> Any {
        let doc = try XCTUnwrap(try YAMLDocument.parse("v: \(scalar)", source: "t") as? [String: Any])
        return try XCTUnwrap(doc["v"])
    }
}

import XCTest
import TVStorage
@testable import TVEngine

/// The typed parameter definitions: the registry's tables come from them and every value is
/// checked against them before any tensor is read.
final class MethodRegistryTests: XCTestCase {
    func check(_ method: String, _ p: MergeParameters, models: Int = 2) throws {
        try MergeMethods.named(method).check(p, modelCount: models)
    }

    func assertUsageError(_ method: String, _ p: MergeParameters, models: Int = 2, mentions: String,
                          file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try check(method, p, models: models), file: file, line: line) { e in
            XCTAssertTrue((e as? EngineError)?.isUsageMistake == true, "\(e)", file: file, line: line)
            XCTAssertTrue(String(describing: e).contains(mentions), "\(e)", file: file, line: line)
        }
    }

    func testEveryBuiltInMethodDeclaresTypedDocumentedParameters() throws {
        let expected: [String: [String]] = [
            "task_arithmetic": ["weight", "lambda"], "linear": ["weight", "normalize"], "lerp": ["t"], "slerp": ["t"],
            "ties": ["weight", "density", "lambda", "normalize", "trim"], "dare_linear": ["weight", "density", "lambda", "normalize"],
            "dare_ties": ["weight", "density", "lambda", "normalize"], "breadcrumbs": ["weight", "density", "gamma", "lambda"],
            "model_stock": [],
            "della": ["weight", "density", "epsilon", "lambda", "normalize", "rescale", "rescale_norm"],
            "della_linear": ["weight", "density", "epsilon", "lambda", "normalize", "rescale", "rescale_norm"],
            "sce": ["select_topk", "lambda"], "nuslerp": ["weight", "nuslerp_flatten", "nuslerp_row_wise"],
            "multislerp": ["weight", "normalize_weights", "eps"], "karcher": ["weight", "max_iter", "tol"],
            "tsv": ["alpha", "conv"], "iso_c": ["alpha", "conv"], "iso_cts": ["alpha", "common_space_fraction", "conv"],
        ]
        for (name, params) in expected {
            let m = try MergeMethods.named(name)
            XCTAssertEqual(m.parameterNames, params, name)
            for p in m.parameters {
                XCTAssertFalse(p.doc.isEmpty || p.doc.hasPrefix("(no typed"), "\(name).\(p.name)")
                XCTAssertTrue(p.defaultValue != nil || p.defaultChoice != nil, "\(name).\(p.name)")
                if let v = p.defaultValue { XCTAssertTrue(p.range.contains(v), "\(name).\(p.name) default outside its range") }
            }
        }
        // Each method appears in the table and in --help's summary with each of its parameters.
        let table = MergeMethods.table(), help = MergeMethods.helpSummary()
        for m in MergeMethods.all {
            XCTAssertTrue(table.contains(m.name + "  " + m.summary))
            for p in m.parameters { XCTAssertTrue(table.contains("    " + p.name), "\(m.name).\(p.name)"); XCTAssertTrue(help.contains(p.name + " (")) }
        }
        XCTAssertTrue(table.contains("in (0, 1]"), "TIES density range shown")
        XCTAssertTrue(help.split(separator: "\n").allSatisfy { $0.count <= 76 })
    }

    func testRanges() {
        XCTAssertTrue(ValueRange.leftOpen(0, 1).contains(1))
        XCTAssertFalse(ValueRange.leftOpen(0, 1).contains(0))
        XCTAssertFalse(ValueRange.leftOpen(0, 1).contains(1.0000001))
        XCTAssertFalse(ValueRange.rightOpen(0, 1).contains(1))
        XCTAssertTrue(ValueRange.any.contains(-1e300))
        XCTAssertEqual(ValueRange.leftOpen(0, 1).description, "(0, 1]")
        XCTAssertEqual(ValueRange.nonNegative.description, ">= 0")
    }

    func testTiesDensityMustBeInZeroOne() throws {
        try check("ties", MergeParameters(global: ["density": .scalar(1)]))
        try check("ties", MergeParameters(global: ["density": .perModel([0.2, 1e-6])]))
        assertUsageError("ties", MergeParameters(global: ["density": .scalar(0)]), mentions: "ties density 0.0 is outside (0, 1]")
        assertUsageError("ties", MergeParameters(global: ["density": .perModel([0.5, 1.5])]), mentions: "outside (0, 1]")
        // In a rule too, named by its position and pattern.
        let rule = TensorRule(pattern: .glob("down.*"), values: ["density": .scalar(-0.1)])
        assertUsageError("ties", MergeParameters(rules: [rule]), mentions: "rule 1 (glob:down.*)")
        assertUsageError("dare_ties", MergeParameters(global: ["density": .scalar(1.01)]), mentions: "outside [0, 1]")
        assertUsageError("breadcrumbs", MergeParameters(global: ["gamma": .scalar(-0.01)]), mentions: "gamma")
    }

    func testNonFiniteValuesAreUsageErrors() {
        for bad in [Double.nan, .infinity, -.infinity] {
            assertUsageError("task_arithmetic", MergeParameters(global: ["weight": .perModel([0.5, bad])]), mentions: "not a finite number")
            assertUsageError("lerp", MergeParameters(global: ["t": .scalar(bad)]), models: 1, mentions: "t = ")
        }
    }

    func testCountsKindsAndUnknownKeys() {
        assertUsageError("task_arithmetic", MergeParameters(global: ["weight": .perModel([1, 2, 3])]), mentions: "3 values for 2 models")
        let rule = TensorRule(pattern: .substring("up"), values: ["weight": .perModel([1, 2, 3])])
        assertUsageError("task_arithmetic", MergeParameters(rules: [rule]), mentions: "3 values for 2 models")
        assertUsageError("task_arithmetic", MergeParameters(global: ["lambda": .perModel([1, 2])]), mentions: "takes one value")
        assertUsageError("linear", MergeParameters(global: ["normalize": .scalar(0.5)]), mentions: "0 or 1")
        assertUsageError("ties", MergeParameters(global: ["trim": .scalar(1)]), mentions: "no parameter 'trim'")
        assertUsageError("task_arithmetic", MergeParameters(options: ["trim": "global"]), mentions: "no parameter 'trim'")
        assertUsageError("lerp", MergeParameters(global: ["density": .scalar(0.5)]), models: 1, mentions: "no parameter 'density'")
        XCTAssertThrowsError(try MergeMethods.named("nope")) { XCTAssertTrue(($0 as? EngineError)?.isUsageMistake == true) }
    }

    func testExplanationNamesTheSourceOfEachValueAndFindsUnmatchedRules() throws {
        let p = MergeParameters(global: ["density": .scalar(0.4)], rules: [
            TensorRule(pattern: .glob("down.*"), values: ["weight": .perModel([0.2, 0.8])]),
            TensorRule(pattern: .substring("nowhere"), values: ["lambda": .scalar(2)]),
            TensorRule(pattern: .regex("^down\\.1"), values: ["weight": .scalar(9), "lambda": .scalar(3)]),
        ], options: ["trim": "global"])
        let rows = ParameterExplanation.explain(method: try MergeMethods.named("ties"), parameters: p, tensorNames: ["down.1.w", "up.w"])
        func get(_ row: Int, _ name: String) -> ParameterExplanation.Resolved? { rows[row].parameters.first { $0.parameter == name } }
        // First matching rule that sets the key wins; a later rule still supplies other keys.
        XCTAssertEqual(get(0, "weight"), .init(parameter: "weight", value: .perModel([0.2, 0.8]), source: "rule 1 (glob:down.*)"))
        XCTAssertEqual(get(0, "lambda"), .init(parameter: "lambda", value: .number(3), source: "rule 3 (regex:^down\\.1)"))
        XCTAssertEqual(get(0, "density"), .init(parameter: "density", value: .number(0.4), source: "global"))
        XCTAssertEqual(get(1, "weight"), .init(parameter: "weight", value: .number(1), source: "default"))
        XCTAssertEqual(get(1, "normalize"), .init(parameter: "normalize", value: .number(1), source: "default"))
        XCTAssertEqual(get(1, "trim"), .init(parameter: "trim", value: .word("global"), source: "global"))
        XCTAssertEqual(ParameterExplanation.unmatchedRules(p, tensorNames: ["down.1.w", "up.w"]), [1])
        XCTAssertEqual(ParameterExplanation.unmatchedRules(p, tensorNames: []), [0, 1, 2])
    }
}

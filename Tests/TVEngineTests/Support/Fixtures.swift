import XCTest
import TVStorage
@testable import TVEngine

/// The numpy-made fixtures in fixtures/engine (see its make.py).
enum EngineFixtures {
    static let weights = [0.1, 0.1, 0.2, 0.5]

    static func path(_ name: String) -> String { TestPaths.fixture("engine/" + name) }

    /// Opens a fixture; skips the test while the safetensors reader is not on this branch.
    static func open(_ name: String) throws -> any CheckpointReader {
        do {
            return try Checkpoints.open(path(name))
        } catch StorageError.notSupportedYet {
            throw XCTSkip("reading safetensors is not supported on this branch yet")
        }
    }

    static func inputs(_ models: [String] = ["ft1", "ft2", "ft3", "ft4"], base: String = "base", taskVectors: Bool = false) throws -> MergeInputs {
        MergeInputs(base: try open(base + ".safetensors"), models: try models.map { try open($0 + ".safetensors") },
                    modelsAreTaskVectors: taskVectors)
    }

    /// Every float tensor of `expected` equals the written one within `tolerance` (abs + rel).
    static func assertMatches(_ w: MemoryWriter, _ expected: String, tolerance: Double = 2e-5,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let e = try open(expected)
        for info in e.tensors {
            guard let got = w.written[info.name] else { XCTFail("missing \(info.name)", file: file, line: line); continue }
            XCTAssertEqual(got.shape, info.shape, info.name, file: file, line: line)
            let a = try got.doubles(), b = try e.tensor(named: info.name).doubles()
            XCTAssertEqual(a.count, b.count, info.name, file: file, line: line)
            var worst = 0.0, at = -1
            for i in 0..<min(a.count, b.count) {
                let err = abs(a[i] - b[i]) / (1 + abs(b[i]))
                if err > worst { worst = err; at = i }
            }
            XCTAssertLessThanOrEqual(worst, tolerance, "\(expected): \(info.name)[\(at)]", file: file, line: line)
        }
    }
}

import CKernels
import XCTest
import TVStorage
@testable import TVEngine

/// TIES / DARE / breadcrumbs on the fused kernels (and on the portable chunked loops) against
/// fixtures/sparse: outputs computed independently with numpy in float32 (full sorts for the
/// top-k, SplitMix64 in numpy for DARE), on F16, BF16 and F32 checkpoints with many magnitudes tied
/// at the thresholds and inf/NaN task-vector entries. Both paths must match bit for bit (NaN
/// payloads aside: any NaN matches any NaN).
final class FusedSparseTests: XCTestCase {
    /// Mirrors fixtures/sparse/make.py's CASES.
    static let weights: ParameterValue = .perModel([0.1, 0.1, 0.2, 0.5])
    static let cases: [(stem: String, method: String, parameters: MergeParameters)] = [
        ("ties", "ties", MergeParameters(global: ["weight": weights, "density": .scalar(0.2)])),
        ("ties_sum", "ties", MergeParameters(global: ["weight": weights, "density": .scalar(0.5), "lambda": .scalar(0.7), "normalize": .scalar(0)])),
        ("ties_global", "ties", MergeParameters(global: ["density": .scalar(0.3)], options: ["trim": "global"])),
        ("dare_ties", "dare_ties", MergeParameters(global: ["weight": weights, "density": .scalar(0.5)])),
        ("dare_linear", "dare_linear", MergeParameters(global: ["weight": weights, "density": .scalar(0.3), "lambda": .scalar(0.9)])),
        ("breadcrumbs", "breadcrumbs", MergeParameters(global: ["weight": weights, "density": .scalar(0.6), "gamma": .scalar(0.1)])),
        ("breadcrumbs_no_gamma", "breadcrumbs", MergeParameters(global: ["weight": weights, "density": .scalar(0.5), "gamma": .scalar(0)])),
    ]

    func open(_ name: String) throws -> any CheckpointReader { try Checkpoints.open(TestPaths.fixture("sparse/" + name)) }

    func inputs(_ dtype: String) throws -> MergeInputs {
        MergeInputs(base: try open("\(dtype)_base.safetensors"), models: try (1...4).map { try open("\(dtype)_ft\($0).safetensors") })
    }

    func merge(_ method: String, _ inputs: MergeInputs, _ p: MergeParameters, fused: Bool, workers: Int,
               writer: StreamingMerge.WriterFactory? = nil) throws -> MemoryWriter? {
        var o = MergeOptions()
        o.progress = false
        o.seed = 7
        o.workers = workers
        o.fusedKernels = fused
        o.allowNonFinite = true  // the NaN/inf fixtures make NaN outputs on purpose (sum methods)
        let box = WriterBox()
        _ = try Merger.merge(method: try MergeMethods.named(method), inputs: inputs, parameters: p, options: o, writer: writer ?? box.factory)
        return box.writer
    }

    /// Stored values as bit patterns, every NaN mapped to one value.
    func bits(_ t: Tensor) throws -> [UInt32] {
        try t.floats().map { $0.isNaN ? 0x7FC0_0000 : $0.bitPattern }
    }

    func assertExact(_ got: [String: Tensor], _ expected: String, _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let e = try open(expected)
        for info in e.tensors {
            guard let g = got[info.name] else { XCTFail("\(label): missing \(info.name)", file: file, line: line); continue }
            XCTAssertEqual(g.dtype, info.dtype, "\(label) \(info.name)", file: file, line: line)
            let a = try bits(g), b = try bits(try e.tensor(named: info.name))
            let wrong = zip(a, b).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
            XCTAssertEqual(a.count, b.count, "\(label) \(info.name)", file: file, line: line)
            XCTAssertTrue(wrong.isEmpty, "\(label) \(info.name): \(wrong.count) of \(a.count) differ, first at \(wrong.first ?? -1)", file: file, line: line)
        }
    }

    /// The fused kernels run with and without their AVX-512 parts (DARE's draw), where the CPU has them.
    func testEveryCaseMatchesNumpyBitForBitOnBothPaths() throws {
        defer { tv_allow_avx512(1) }
        for dtype in ["f16", "bf16", "f32"] {
            let inputs = try inputs(dtype)
            for c in Self.cases {
                for (fused, avx512) in [(true, true), (true, false), (false, true)] {
                    tv_allow_avx512(avx512 ? 1 : 0)
                    for workers in [1, 2] {
                        let out = try merge(c.method, inputs, c.parameters, fused: fused, workers: workers)!
                        try assertExact(out.written, "\(dtype)_expected_\(c.stem).safetensors",
                                        "\(dtype) \(c.stem) fused=\(fused) avx512=\(avx512) workers=\(workers)")
                    }
                }
            }
        }
    }

    /// The fixtures really exercise what they claim: ties at the TIES threshold, NaN kept by the
    /// trim but never elected, NaN reaching the sum methods' output, and an element past the
    /// first 65,536-element block (DARE's draws use the element index).
    func testFixturesCoverTiesNonFiniteAndLaterBlocks() throws {
        let base = try open("f16_base.safetensors"), ft = try open("f16_ft1.safetensors")
        let b = try base.tensor(named: "tied").floats(), x = try ft.tensor(named: "tied").floats()
        let mags = zip(x, b).map { Swift.abs($0 - $1) }.sorted(by: >)
        let k = Int((Double(mags.count) * 0.2).rounded(.down))
        XCTAssertGreaterThan(mags.filter { $0 == mags[k - 1] }.count, 10, "many magnitudes tie at the 0.2 threshold")
        XCTAssertEqual(try base.tensor(named: "big").elementCount, 66_000)
        let ties = try open("f16_expected_ties.safetensors").tensor(named: "nonfinite").floats()
        XCTAssertFalse(ties.contains { $0.isNaN })
        let sum = try open("f16_expected_breadcrumbs_no_gamma.safetensors").tensor(named: "nonfinite").floats()
        XCTAssertTrue(sum.contains { $0.isNaN } && sum.contains { $0.isInfinite })
    }

    /// The fused kernel writing blocks straight into a file gives the same bytes.
    func testRangedFileOutputMatchesNumpy() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tvtool-sparse-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for c in Self.cases where ["ties", "dare_ties", "breadcrumbs"].contains(c.stem) {
            let path = dir + "/\(c.stem).safetensors"
            _ = try merge(c.method, try inputs("f16"), c.parameters, fused: true, workers: 2, writer: { infos, meta in
                try SafetensorsWriter(path: path, tensors: infos, metadata: meta)
            })
            let file = try Checkpoints.open(path)
            var got: [String: Tensor] = [:]
            for info in file.tensors { got[info.name] = try file.tensor(named: info.name) }
            try assertExact(got, "f16_expected_\(c.stem).safetensors", "file \(c.stem)")
        }
    }
}

import Foundation
import XCTest
import TVStorage
@testable import TVEngine

/// The fused C kernel against the portable chunked path (bit for bit), and the ranged file output
/// against the buffered one.
final class FusedLinearTests: XCTestCase {
    /// Sizes around the kernel's 8-wide vectors, its 512-value strips, the runner's 64K blocks and
    /// the two-worker threshold.
    static let sizes = [1, 7, 8, 9, 511, 513, 4096 + 3, 70_001]

    /// Values with the awkward cases mixed in: zeros of both signs, subnormals, values that round
    /// to infinity in F16, infinities and NaN.
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var v = randomFloats(n, seed: seed, scale: 3)
        let specials: [Float] = [0, -0.0, 1e-7, -6e-8, 70000, -1e30, .infinity, -.infinity, .nan, 65504, 2.98e-8]
        for (k, s) in specials.enumerated() where k * 37 % max(n, 1) < n { v[k * 37 % n] = s }
        return v
    }

    func reader(_ name: String, dtype: DType, seed: UInt64, skip: Set<Int> = []) -> MemoryReader {
        let entries = Self.sizes.enumerated().filter { !skip.contains($0.offset) }.map { i, n in
            ("t\(i)", try! Tensor.fromFloats(values(n, seed: seed &+ UInt64(i)), shape: [n], dtype: dtype))
        }
        return MemoryReader(name, entries)
    }

    func run(_ inputs: MergeInputs, plan: TensorPlan, outDType: DType?, keys: KeyPolicy = .error,
             fused: Bool, workers: Int = 2, writer: StreamingMerge.WriterFactory? = nil,
             allowNonFinite: Bool = true) throws -> MemoryWriter? {
        var o = MergeOptions()
        o.allowNonFinite = allowNonFinite  // the inputs hold inf/NaN on purpose
        o.progress = false
        o.fusedKernels = fused
        o.outDType = outDType
        o.keys = keys
        o.workers = workers
        let box = WriterBox()
        _ = try StreamingMerge(inputs: inputs, options: o).run(recipe: [:], planner: { _ in plan }, writer: writer ?? box.factory)
        return box.writer
    }

    /// A copy of the tensor's bytes (the parameter keeps its storage alive while copying).
    func bits(_ t: Tensor) -> [UInt8] { withExtendedLifetime(t) { Array(t.storage.buffer) } }

    func testFusedMatchesChunkedBitForBit() throws {
        try XCTSkipUnless(FusedLinear.available, "no AVX2/F16C: the fused kernel is never used here")
        let dtypes: [DType] = [.f16, .bf16, .f32]
        let plans: [TensorPlan] = [
            .linear(baseScale: 1, coefficients: [0.1, 0.2, 0.5]),
            .linear(baseScale: 0.3, coefficients: [0.7, 0, -1.25]),
            .linear(baseScale: 0, coefficients: [1, 1, 1]),
            .linear(baseScale: 1, coefficients: [0, 0, 0]),
        ]
        for (k, baseType) in dtypes.enumerated() {
            let base = reader("base", dtype: baseType, seed: 1)
            // Mixed model dtypes; the third lacks tensor 2 (read as the base under --keys union).
            let models = [reader("m1", dtype: dtypes[(k + 1) % 3], seed: 2), reader("m2", dtype: baseType, seed: 3),
                          reader("m3", dtype: dtypes[(k + 2) % 3], seed: 4, skip: [2])]
            for taskVectors in [[false, false, false], [true, false, true]] {
                let inputs = MergeInputs(base: base, models: models, modelIsTaskVector: taskVectors)
                for plan in plans {
                    for out in [DType.f16, .bf16, .f32] {
                        let a = try run(inputs, plan: plan, outDType: out, keys: .union, fused: true)!
                        let b = try run(inputs, plan: plan, outDType: out, keys: .union, fused: false)!
                        for name in b.written.keys {
                            XCTAssertEqual(bits(a.written[name]!), bits(b.written[name]!),
                                           "\(baseType) base, task vectors \(taskVectors), \(plan), out \(out): \(name)")
                        }
                    }
                }
            }
        }
    }

    func testRangedFileOutputMatchesBufferedOutput() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tvtool-fused-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inputs = MergeInputs(base: reader("base", dtype: .f16, seed: 1),
                                 models: [reader("m1", dtype: .f16, seed: 2), reader("m2", dtype: .bf16, seed: 3)])
        let plan = TensorPlan.linear(baseScale: 1, coefficients: [0.25, 0.5])
        let buffered = try run(inputs, plan: plan, outDType: nil, fused: true)!
        for workers in [1, 2] {
            let path = dir + "/out\(workers).safetensors"
            _ = try run(inputs, plan: plan, outDType: nil, fused: true, workers: workers, writer: { infos, meta in
                try SafetensorsWriter(path: path, tensors: infos, metadata: meta)
            })
            let file = try Checkpoints.open(path)
            for name in buffered.written.keys {
                XCTAssertEqual(bits(try file.tensor(named: name)), bits(buffered.written[name]!), name)
            }
        }
    }

    func testRangedWriteErrorLeavesNoFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tvtool-fused-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inputs = MergeInputs(base: reader("base", dtype: .f16, seed: 1), models: [reader("m1", dtype: .f16, seed: 2)])
        let path = dir + "/out.safetensors"
        XCTAssertThrowsError(try run(inputs, plan: .linear(baseScale: 1, coefficients: [0.5]), outDType: nil, fused: true, writer: { infos, meta in
            FailingRangedWriter(try SafetensorsWriter(path: path, tensors: infos, metadata: meta), failAfter: 3)
        })) { e in XCTAssertTrue("\(e)".contains("disk full"), "\(e)") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    func testSafetensorsWriterChecksRanges() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tvtool-ranged-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/r.safetensors"
        let w = try SafetensorsWriter(path: path, tensors: [TensorInfo(name: "a", dtype: .f32, shape: [4])], metadata: [:])
        let bytes: [UInt8] = Array(0..<16)
        try bytes.withUnsafeBytes { b in
            XCTAssertThrowsError(try w.write(UnsafeRawBufferPointer(rebasing: b[0..<8]), ofTensor: "a", at: 12)) { e in
                XCTAssertEqual((e as? SafetensorsError)?.kind, "rangeOutsideTensor")
            }
            XCTAssertThrowsError(try w.write(b, ofTensor: "b", at: 0))
            XCTAssertThrowsError(try w.finish())  // nothing completed yet: no file appears
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        let v = try SafetensorsWriter(path: path, tensors: [TensorInfo(name: "a", dtype: .f32, shape: [4])], metadata: [:])
        // Two halves from two threads, in reverse order.
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            let lo = (1 - k) * 8
            let half = Array(bytes[lo..<(lo + 8)])
            half.withUnsafeBytes { try! v.write($0, ofTensor: "a", at: lo) }
        }
        try v.completeTensor("a")
        XCTAssertThrowsError(try v.completeTensor("a")) { e in XCTAssertEqual((e as? SafetensorsError)?.kind, "tensorWrittenTwice") }
        try v.finish()
        XCTAssertEqual(bits(try Checkpoints.open(path).tensor(named: "a")), bytes)
    }
}

/// A ranged writer whose block writes fail after `failAfter` of them (a full disk).
private final class FailingRangedWriter: RangedCheckpointWriter, @unchecked Sendable {
    struct DiskFull: Error, CustomStringConvertible { var description: String { "disk full" } }
    let inner: SafetensorsWriter
    let lock = NSLock()
    var remaining: Int
    var path: String { inner.path }

    init(_ inner: SafetensorsWriter, failAfter: Int) {
        self.inner = inner
        self.remaining = failAfter
    }

    func write(_ tensor: Tensor, named name: String) throws { try inner.write(tensor, named: name) }

    func write(_ bytes: UnsafeRawBufferPointer, ofTensor name: String, at offset: Int) throws {
        let fail = lock.withLock { remaining -= 1; return remaining < 0 }
        if fail { throw DiskFull() }
        try inner.write(bytes, ofTensor: name, at: offset)
    }

    func completeTensor(_ name: String) throws { try inner.completeTensor(name) }
    func finish() throws { try inner.finish() }
    func abort() { inner.abort() }
}

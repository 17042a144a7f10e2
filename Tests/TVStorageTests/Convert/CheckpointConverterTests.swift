import Foundation
import XCTest
@testable import TVStorage

final class CheckpointConverterTests: XCTestCase {
    private func convert(_ input: String, dtype: DType?, ext: String = "safetensors") throws -> (any CheckpointReader, ConvertSummary, URL) {
        let dir = TestPaths.scratchDirectory()
        let out = dir.appendingPathComponent("out." + ext).path
        let summary = try CheckpointConverter.convert(input: input, output: out, options: ConvertOptions(dtype: dtype))
        return (try Checkpoints.open(out), summary, dir)
    }

    /// Every float pair goes through the right path (direct or chunked via Float) and matches the
    /// scalar HalfFloat reference; other dtypes are copied byte for byte.
    func testAllFloatPairs() throws {
        let input = TestPaths.fixture("safetensors/dtypes/all_dtypes.safetensors")
        let source = try SafetensorsReader(path: input)
        for target in [DType.f32, .f16, .bf16, .f64] {
            let (r, summary, dir) = try convert(input, dtype: target)
            defer { try? FileManager.default.removeItem(at: dir) }
            XCTAssertEqual(summary.tensors, source.tensors.count)
            for info in source.tensors {
                let a = try source.tensor(named: info.name), b = try r.tensor(named: info.name)
                XCTAssertEqual(b.shape, a.shape)
                guard a.dtype.supportsArithmetic else {
                    XCTAssertEqual(b.dtype, a.dtype)
                    XCTAssertEqual(Array(b.storage.buffer), Array(a.storage.buffer), info.name)
                    continue
                }
                XCTAssertEqual(b.dtype, target)
                // Reference: decode to Double (exact for every source), then round once to the target.
                let want: [UInt64] = try a.doubles().map { d in
                    switch target {
                    case .f64: return d.bitPattern
                    case .f32: return UInt64(Float(d).bitPattern)
                    case .f16: return UInt64(HalfFloat.f32ToF16(Float(d)))
                    default: return UInt64(HalfFloat.f32ToBF16(Float(d)))
                    }
                }
                let got: [UInt64] = target == .f64 ? try b.doubles().map(\.bitPattern)
                    : target == .f32 ? try b.floats().map { UInt64($0.bitPattern) }
                    : b.storage.buffer.withMemoryRebound(to: UInt16.self) { $0.map { UInt64($0) } }
                let nanMask: [Bool] = try a.doubles().map(\.isNaN)
                for i in want.indices where !nanMask[i] {
                    XCTAssertEqual(got[i], want[i], "\(info.name)[\(i)] -> \(target.rawValue)")
                }
            }
        }
    }

    /// A file whose data buffer starts at an odd offset (the loader copies it to aligned memory).
    func testUnalignedSourceData() throws {
        let input = TestPaths.fixture("safetensors/accepted/n_not_multiple_of_8.safetensors")
        let (r, summary, dir) = try convert(input, dtype: .f16)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(summary.convertedTensors, 1)
        XCTAssertEqual(try r.tensor(named: "a").floats(), [1.5, -2.0])
        XCTAssertEqual(Array(try r.tensor(named: "b").storage.buffer), [1, 2, 3])
    }

    func testRejectsNonFloatTarget() {
        XCTAssertThrowsError(try CheckpointConverter.convert(input: "x.safetensors", output: "y.safetensors", options: ConvertOptions(dtype: .i8)))
    }

    func testByteSizeParsing() {
        XCTAssertEqual(ByteSize.parse("5GB"), 5_000_000_000)
        XCTAssertEqual(ByteSize.parse("500MB"), 500_000_000)
        XCTAssertEqual(ByteSize.parse("2GiB"), 2 << 30)
        XCTAssertEqual(ByteSize.parse("1.5kb"), 1500)
        XCTAssertEqual(ByteSize.parse("4096"), 4096)
        XCTAssertNil(ByteSize.parse("lots"))
        XCTAssertNil(ByteSize.parse("-1GB"))
        XCTAssertNil(ByteSize.parse("0"))
    }
}

final class CheckpointConverterSafetyTests: XCTestCase {
    /// Re-sharding next to the input with the same base name would replace the input's shards.
    func testRefusesToReplaceInputShards() throws {
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = TestPaths.fixture("safetensors/sharded")
        for f in ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"] {
            try FileManager.default.copyItem(atPath: src + "/" + f, toPath: dir.appendingPathComponent(f).path)
        }
        let index = dir.appendingPathComponent("model.safetensors.index.json").path
        XCTAssertThrowsError(try CheckpointConverter.convert(input: index, output: dir.appendingPathComponent("model.safetensors").path,
                                                             options: ConvertOptions(maxShardBytes: 64))) {
            guard case .wouldOverwriteInput? = $0 as? StorageError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).count, 3)
    }
}

final class CheckpointConverterLargeTensorTests: XCTestCase {
    /// Tensors above ~1 M elements are converted on all cores in disjoint ranges: every element
    /// must still match the scalar conversion (checks the range split, including the ragged end).
    func testLargeTensorsConvertedInParallelMatchScalarReference() throws {
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let n = (1 << 20) + 12345
        var rng = SystemRandomNumberGenerator()
        let values = (0..<n).map { _ in Float(bitPattern: UInt32.random(in: 0...0x7f7f_ffff, using: &rng)) * (Bool.random(using: &rng) ? 1 : -1) }
        let input = dir.appendingPathComponent("big.safetensors").path
        let w = try SafetensorsWriter(path: input, tensors: [TensorInfo(name: "w", dtype: .f32, shape: [n])], metadata: [:])
        try w.write(try Tensor.fromFloats(values, shape: [n]), named: "w")
        try w.finish()
        for target in [DType.f16, .bf16] {
            let out = dir.appendingPathComponent("out-\(target.rawValue).safetensors").path
            _ = try CheckpointConverter.convert(input: input, output: out, options: ConvertOptions(dtype: target))
            // Keep the tensor (and so its mapping) alive while its bytes are read.
            let converted = try SafetensorsReader(path: out).tensor(named: "w")
            let got = withExtendedLifetime(converted) { converted.storage.buffer.withMemoryRebound(to: UInt16.self) { Array($0) } }
            let want = values.map { target == .f16 ? HalfFloat.f32ToF16($0) : HalfFloat.f32ToBF16($0) }
            XCTAssertEqual(got.count, n)
            XCTAssertTrue(got == want, "\(target.rawValue): first mismatch at \(got.indices.first { got[$0] != want[$0] } ?? -1)")
            let back = dir.appendingPathComponent("back-\(target.rawValue).safetensors").path
            _ = try CheckpointConverter.convert(input: out, output: back, options: ConvertOptions(dtype: .f32))
            let decoded = try SafetensorsReader(path: back).tensor(named: "w").floats()
            let wantBack = want.map { target == .f16 ? HalfFloat.f16ToF32($0) : HalfFloat.bf16ToF32($0) }
            XCTAssertTrue(decoded.map(\.bitPattern) == wantBack.map(\.bitPattern), "\(target.rawValue) decode")
        }
    }
}

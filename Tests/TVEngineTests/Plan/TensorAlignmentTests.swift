import XCTest
import TVStorage
@testable import TVEngine

/// Key, shape and dtype policies, each with its documented behaviour.
final class TensorAlignmentTests: XCTestCase {
    func run(_ base: MemoryReader, _ models: [MemoryReader], keys: KeyPolicy = .error, mismatch: MismatchPolicy = .error,
             outDType: DType? = nil) throws -> (MemoryWriter, MergeReport) {
        var o = MergeOptions()
        o.keys = keys
        o.mismatch = mismatch
        o.outDType = outDType
        o.progress = false
        let box = WriterBox()
        let r = try Merger.merge(method: try MergeMethods.named("task_arithmetic"), inputs: MergeInputs(base: base, models: models),
                                 parameters: MergeParameters(global: ["weight": .scalar(0.5)]), options: o, writer: box.factory)
        return (box.writer!, r)
    }

    let base = MemoryReader("base", [("a", tensor([1, 2, 3])), ("b", tensor([10, 20]))])

    func testMissingKeyIsAnErrorByDefault() {
        let m = MemoryReader("m", [("a", tensor([3, 4, 5]))])
        XCTAssertThrowsError(try run(base, [m])) { e in
            XCTAssertTrue(String(describing: e).contains("'b'"), "\(e)")
            XCTAssertTrue(String(describing: e).contains("m"), "\(e)")
        }
    }

    func testIntersectionLeavesKeysOut() throws {
        let m = MemoryReader("m", [("a", tensor([3, 4, 5])), ("c", tensor([1]))])
        let (w, r) = try run(base, [m], keys: .intersection)
        XCTAssertEqual(w.order, ["a"])
        XCTAssertEqual(try w.floats("a"), [2, 3, 4])
        XCTAssertEqual(Set(r.alignment.dropped), ["b", "c"])
    }

    func testUnionTreatsMissingAsZeroTaskVectorAndCopiesExtraKeys() throws {
        let m = MemoryReader("m", [("a", tensor([3, 4, 5])), ("c", tensor([7]))])
        let (w, _) = try run(base, [m], keys: .union)
        XCTAssertEqual(w.order, ["a", "b", "c"])
        XCTAssertEqual(try w.floats("b"), [10, 20])
        XCTAssertEqual(try w.floats("c"), [7])
    }

    func testShapeMismatchErrorsOrKeepsBase() throws {
        let m = MemoryReader("m", [("a", tensor([3, 4, 5], [3, 1])), ("b", tensor([12, 22]))])
        XCTAssertThrowsError(try run(base, [m])) { e in XCTAssertTrue(String(describing: e).contains("'a'")) }
        let (w, r) = try run(base, [m], mismatch: .skip)
        XCTAssertEqual(try w.floats("a"), [1, 2, 3])
        XCTAssertEqual(try w.floats("b"), [11, 21])
        XCTAssertEqual(r.alignment.skipped.map(\.tensor), ["a"])
    }

    func testIntegerWhereBaseHasFloatIsAMismatch() throws {
        let ints = try Tensor(dtype: .i32, shape: [2], storage: ByteStorage(copying: [1, 0, 0, 0, 2, 0, 0, 0]))
        let m = MemoryReader("m", [("a", tensor([3, 4, 5])), ("b", ints)])
        XCTAssertThrowsError(try run(base, [m]))
        let (w, _) = try run(base, [m], mismatch: .skip)
        XCTAssertEqual(try w.floats("b"), [10, 20])
    }

    func testMixedF16BaseBF16ModelComputesInFloatAndKeepsBaseDType() throws {
        let b = MemoryReader("b", [("x", tensor([1, 2, 0.5, -4], [2, 2], .f16))])
        let m = MemoryReader("m", [("x", tensor([3, 2, 1.5, -2], [2, 2], .bf16))])
        let (w, r) = try run(b, [m])
        XCTAssertEqual(w.written["x"]!.dtype, .f16)
        XCTAssertEqual(try w.floats("x"), [2, 2, 1, -3])
        XCTAssertEqual(r.alignment.mixedDTypes, ["x"])
        let (w2, _) = try run(b, [m], outDType: .bf16)
        XCTAssertEqual(w2.written["x"]!.dtype, .bf16)
    }

    func testScalarsAndZeroSizeTensors() throws {
        let b = MemoryReader("b", [("s", tensor([2], [])), ("z", tensor([], [0, 4]))])
        let m = MemoryReader("m", [("s", tensor([4], [])), ("z", tensor([], [0, 4]))])
        let (w, _) = try run(b, [m])
        XCTAssertEqual(w.written["s"]!.shape, [])
        XCTAssertEqual(try w.floats("s"), [3])
        XCTAssertEqual(w.written["z"]!.shape, [0, 4])
        XCTAssertEqual(w.written["z"]!.byteCount, 0)
    }

    func testErrorAbortsTheWriter() throws {
        // A reader that fails on the second tensor: the writer must be aborted, never finished.
        final class Failing: CheckpointReader, @unchecked Sendable {
            let path = "failing"
            let tensors = [TensorInfo(name: "a", dtype: .f32, shape: [1]), TensorInfo(name: "b", dtype: .f32, shape: [1])]
            let metadata: [String: String] = [:]
            func tensor(named name: String) throws -> Tensor {
                if name == "b" { throw StorageError.tensorNotFound(path: path, tensor: name) }
                return try Tensor.fromFloats([1], shape: [1])
            }
        }
        let box = WriterBox()
        var o = MergeOptions()
        o.progress = false
        XCTAssertThrowsError(try Merger.merge(method: try MergeMethods.named("task_arithmetic"),
                                              inputs: MergeInputs(base: Failing(), models: [Failing()]),
                                              parameters: MergeParameters(), options: o, writer: box.factory))
        XCTAssertEqual(box.writer?.aborted, true)
        XCTAssertEqual(box.writer?.finished, false)
    }
}

final class CancellationTests: XCTestCase {
    func testCancelledMergeAbortsTheWriter() throws {
        let base = MemoryReader("base", [("a", tensor([1, 2, 3]))])
        let m = MemoryReader("m", [("a", tensor([3, 4, 5]))])
        var o = MergeOptions()
        o.progress = false
        o.cancellation = Cancellation()
        o.cancellation!.cancel()
        let box = WriterBox()
        XCTAssertThrowsError(try Merger.merge(method: try MergeMethods.named("task_arithmetic"), inputs: MergeInputs(base: base, models: [m]),
                                              parameters: MergeParameters(), options: o, writer: box.factory)) { e in
            XCTAssertEqual(e as? EngineError, .interrupted)
        }
        XCTAssertEqual(box.writer?.aborted, true)
        XCTAssertEqual(box.writer?.finished, false)
    }
}

import XCTest
@testable import TVStorage

/// Valid checkpoints written by torch.save read back bit for bit as torch reads them.
final class PyTorchReaderTests: XCTestCase {
    func testEveryDTypeMatchesTorch() throws {
        let reader = try PyTorchReader(path: PyTorchFixtures.path("dtypes.bin"))
        try PyTorchFixtures.assertMatchesTorch(reader, "dtypes.bin")
        XCTAssertEqual(reader.info(named: "param")?.dtype, .f32, "nn.Parameter is read as its data")
        XCTAssertEqual(reader.info(named: "u16")?.dtype, .u16, "_rebuild_tensor_v3 with an untyped storage")
        XCTAssertTrue(reader.notes.isEmpty, "\(reader.notes)")
    }

    func testSharedStoragesOffsetsStridesAndScalars() throws {
        let reader = try PyTorchReader(path: PyTorchFixtures.path("views.pt"))
        try PyTorchFixtures.assertMatchesTorch(reader, "views.pt")
        XCTAssertEqual(reader.info(named: "scalar")?.shape, [])
        XCTAssertEqual(reader.info(named: "empty")?.shape, [0, 3])
        let transposed = try reader.tensor(named: "transposed")
        XCTAssertEqual(try transposed.floats().prefix(4), [0, 6, 12, 18])
    }

    func testContiguousTensorsAreZeroCopyViewsOfTheMapping() throws {
        let reader = try PyTorchReader(path: PyTorchFixtures.path("views.pt"))
        let grid = try reader.tensor(named: "grid"), row = try reader.tensor(named: "row")
        XCTAssertNotNil(grid.storage.mapping)
        XCTAssertNotNil(row.storage.mapping)
        // Both view the one shared storage: row 1 starts 6 floats after the grid.
        XCTAssertEqual(row.storage.base, grid.storage.base + 6 * 4)
        XCTAssertNil(try reader.tensor(named: "transposed").storage.mapping, "strided tensors are copied")
        XCTAssertEqual(Int(bitPattern: grid.storage.base) % 64, 0, "torch aligns storages to 64 bytes")
    }

    func testModuleStateDictWithMetadataAndIntegerScalars() throws {
        let reader = try PyTorchReader(path: PyTorchFixtures.path("module_state.bin"))
        try PyTorchFixtures.assertMatchesTorch(reader, "module_state.bin")
        XCTAssertEqual(reader.info(named: "1.num_batches_tracked"), TensorInfo(name: "1.num_batches_tracked", dtype: .i64, shape: []))
    }

    func testLightningCheckpointUsesStateDictAndNotesTheRest() throws {
        let reader = try Checkpoints.open(PyTorchFixtures.path("lightning.ckpt"))
        try PyTorchFixtures.assertMatchesTorch(reader, "lightning.ckpt")
        let notes = reader.notes.joined(separator: "\n")
        XCTAssertTrue(notes.contains("'state_dict'"), notes)
        XCTAssertTrue(notes.contains("epoch") && notes.contains("hyper_parameters"), notes)
    }

    func testModelWrapperAndExplicitNestedKey() throws {
        try PyTorchFixtures.assertMatchesTorch(try PyTorchReader(path: PyTorchFixtures.path("wrapped.pt")), "wrapped.pt")
        let ema = try PyTorchReader(path: PyTorchFixtures.path("wrapped.pt"), options: OpenOptions(nestedKey: "ema"))
        try PyTorchFixtures.assertMatchesTorch(ema, "wrapped.pt#ema")
        XCTAssertThrowsError(try PyTorchReader(path: PyTorchFixtures.path("wrapped.pt"), options: OpenOptions(nestedKey: "nope"))) {
            XCTAssertEqual($0 as? PyTorchError, .nestedKeyNotFound(path: PyTorchFixtures.path("wrapped.pt"), key: "nope"))
        }
    }

    func testNestedDictsFlattenWithDotsAndNonTensorsAreNoted() throws {
        let reader = try PyTorchReader(path: PyTorchFixtures.path("nested.pt"))
        try PyTorchFixtures.assertMatchesTorch(reader, "nested.pt")
        XCTAssertEqual(reader.notes, ["skipped non-tensor entries: step (int), info (dict), np_step (numpy scalar)"])
        let dotted = try PyTorchReader(path: PyTorchFixtures.path("nested.pt"), options: OpenOptions(nestedKey: "unet.conv"))
        XCTAssertEqual(dotted.tensors.map(\.name), ["weight"])
    }

    func testDiffusersBinFileOpensThroughCheckpoints() throws {
        let reader = try Checkpoints.open(PyTorchFixtures.path("diffusers_unet/diffusion_pytorch_model.bin"))
        XCTAssertTrue(reader is PyTorchReader)
        try PyTorchFixtures.assertMatchesTorch(reader, "diffusers_unet")
    }

    func testHandMadeArchiveInTorchLayout() throws {
        try PyTorchFixtures.assertMatchesTorch(try PyTorchReader(path: PyTorchFixtures.path("handmade_ok.pt")), "handmade_ok.pt")
    }

    func testReadsFromManyThreadsAtOnce() throws {
        let reader = try PyTorchReader(path: PyTorchFixtures.path("views.pt"))
        let names = reader.tensors.map(\.name)
        let failures = PyTorchFailureCounter()
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            if (try? reader.tensor(named: names[i % names.count])) == nil { failures.increment() }
        }
        XCTAssertEqual(failures.value, 0)
    }

    func testUnknownTensorName() throws {
        let reader = try PyTorchReader(path: PyTorchFixtures.path("views.pt"))
        XCTAssertThrowsError(try reader.tensor(named: "missing")) { XCTAssertTrue($0 is StorageError) }
    }
}

private final class PyTorchFailureCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

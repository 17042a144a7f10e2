import XCTest
@testable import TVStorage

/// Damaged or unusual archives give clear errors (never a crash or a silent misread).
final class PyTorchCorruptionTests: XCTestCase {
    private func error(opening file: String) -> Error? {
        do {
            _ = try PyTorchReader(path: PyTorchFixtures.path(file))
            return nil
        } catch {
            return error
        }
    }

    private func path(_ file: String) -> String { PyTorchFixtures.path(file) }

    func testLegacyFormatAsksForAResave() {
        let e = error(opening: "legacy.bin")
        XCTAssertEqual(e as? PyTorchError, .legacyFormat(path: path("legacy.bin")))
        XCTAssertTrue("\(e!)".contains("re-save it with a current torch"))
    }

    func testTorchScriptArchiveIsNamedAsSuch() {
        XCTAssertEqual(error(opening: "torchscript.pt") as? PyTorchError, .torchScriptArchive(path: path("torchscript.pt")))
    }

    func testNotAZip() {
        XCTAssertEqual(error(opening: "not_a_zip.pt") as? ZipError, .notAZip(path: path("not_a_zip.pt")))
    }

    func testTruncatedArchive() {
        guard case .truncated? = error(opening: "truncated.pt") as? ZipError else {
            return XCTFail("\(String(describing: error(opening: "truncated.pt")))")
        }
    }

    func testBadPickleChecksumFailsOnOpen() {
        guard case let .checksumMismatch(_, entry, _, _)? = error(opening: "bad_crc_pickle.pt") as? ZipError else {
            return XCTFail("\(String(describing: error(opening: "bad_crc_pickle.pt")))")
        }
        XCTAssertEqual(entry, "archive/data.pkl")
    }

    func testBadStorageChecksumFailsOnFirstRead() throws {
        let reader = try PyTorchReader(path: path("bad_crc_storage.pt"))
        XCTAssertThrowsError(try reader.tensor(named: "w")) {
            guard case let .checksumMismatch(_, entry, _, _)? = $0 as? ZipError else { return XCTFail("\($0)") }
            XCTAssertEqual(entry, "archive/data/0")
        }
        let unchecked = try PyTorchReader(path: path("bad_crc_storage.pt"), verifyStorageChecksums: false)
        XCTAssertNoThrow(try unchecked.tensor(named: "w"))
    }

    func testChecksumsCanBeSkippedThroughOpenOptions() throws {
        let reader = try Checkpoints.open(path("bad_crc_storage.pt"), options: OpenOptions(verifyChecksums: false))
        XCTAssertNoThrow(try reader.tensor(named: "w"))
    }

    func testBroadcastStridesCannotDemandHugeAllocations() {
        guard case let .invalidTensor(_, tensor, reason)? = error(opening: "broadcast_bomb.pt") as? PyTorchError else {
            return XCTFail("\(String(describing: error(opening: "broadcast_bomb.pt")))")
        }
        XCTAssertEqual(tensor, "w")
        XCTAssertTrue(reason.contains("repeat elements"), reason)
    }

    func testShapeOverflowIsAnError() {
        guard case .invalidTensor(_, "w", _)? = error(opening: "shape_overflow.pt") as? PyTorchError else {
            return XCTFail("\(String(describing: error(opening: "shape_overflow.pt")))")
        }
    }

    func testEntryOutsideTheFile() {
        XCTAssertEqual(error(opening: "offset_outside.pt") as? ZipError, .entryOutsideFile(path: path("offset_outside.pt"), entry: "archive/data/0"))
    }

    func testStorageShorterThanItsTensor() {
        XCTAssertEqual(error(opening: "storage_too_short.pt") as? PyTorchError,
                       .storageTooShort(path: path("storage_too_short.pt"), tensor: "w", neededBytes: 24, storageBytes: 16))
    }

    func testStorageSizeDisagreesWithPickle() {
        XCTAssertEqual(error(opening: "storage_size_mismatch.pt") as? PyTorchError,
                       .storageSizeMismatch(path: path("storage_size_mismatch.pt"), entry: "archive/data/0", declaredBytes: 16, actualBytes: 12))
    }

    func testMissingStorageEntry() {
        XCTAssertEqual(error(opening: "storage_missing.pt") as? PyTorchError,
                       .missingStorage(path: path("storage_missing.pt"), tensor: "w", entry: "archive/data/0"))
    }

    func testMissingDataPickle() {
        XCTAssertEqual(error(opening: "no_data_pkl.pt") as? PyTorchError, .missingDataPickle(path: path("no_data_pkl.pt")))
    }

    func testDeflatedEntriesAreInflated() throws {
        let reader = try PyTorchReader(path: path("deflated.pt"))
        try PyTorchFixtures.assertMatchesTorch(reader, "deflated.pt")
        XCTAssertNil(try reader.tensor(named: "w").storage.mapping, "inflated into owned memory")
    }

    func testOtherCompressionMethodsAreRefusedClearly() {
        XCTAssertEqual(error(opening: "bzip2.pt") as? ZipError,
                       .unsupportedCompression(path: path("bzip2.pt"), entry: "archive/data.pkl", method: 12))
    }

    func testDuplicateNamesAfterFlattening() {
        XCTAssertEqual(error(opening: "duplicate_names.pt") as? PyTorchError, .duplicateTensorName(path: path("duplicate_names.pt"), tensor: "a.b"))
    }

    func testBigEndianCheckpointIsRefused() {
        XCTAssertEqual(error(opening: "big_endian.pt") as? PyTorchError, .unsupportedByteOrder(path: path("big_endian.pt"), order: "big"))
    }

    func testTopLevelMustBeADict() {
        guard case .unexpectedStructure? = error(opening: "not_a_dict.pt") as? PyTorchError else {
            return XCTFail("\(String(describing: error(opening: "not_a_dict.pt")))")
        }
    }

    /// Every prefix of a valid archive fails cleanly (no trap, no hang).
    func testEveryTruncationOfAValidFileFailsCleanly() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path("handmade_ok.pt")))
        let dir = TestPaths.scratchDirectory("pytorch-trunc")
        defer { try? FileManager.default.removeItem(at: dir) }
        for n in stride(from: 0, to: bytes.count, by: 7) {
            let file = dir.appendingPathComponent("t.pt").path
            try bytes.prefix(n).write(to: URL(fileURLWithPath: file))
            XCTAssertThrowsError(try PyTorchReader(path: file), "prefix \(n)")
        }
    }
}

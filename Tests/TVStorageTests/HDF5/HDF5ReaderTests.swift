import Foundation
import XCTest
@testable import TVStorage

/// HDF5Reader against h5py-written fixtures (fixtures/hdf5/make.py), compared bit for bit.
final class HDF5ReaderTests: XCTestCase {
    private func open(_ name: String) throws -> HDF5Reader {
        try HDF5Reader(path: TestPaths.fixture("hdf5/\(name)"))
    }

    func testGenericNestedGroupsNumericOrderAndMetadata() throws {
        let reader = try open("generic.h5")
        let expected = try HDF5ExpectedFixture.load("generic")
        try expected.verify(reader)
        for (key, value) in expected.metadata ?? [:] {
            XCTAssertEqual(reader.metadata[key], value, "metadata \(key)")
        }
        XCTAssertNil(reader.layoutDescription)
        XCTAssertFalse(reader.tensors.contains { $0.name.contains("alias") }, "soft links must not duplicate tensors")
    }

    func testEveryDTypeBigEndianGzipScalarsAndZeroSize() throws {
        let reader = try open("dtypes.h5")
        try HDF5ExpectedFixture.load("dtypes").verify(reader)
        XCTAssertTrue(reader.notes.contains { $0.contains("custom/odd_float") && $0.contains("converted") }, "\(reader.notes)")
        XCTAssertTrue(reader.notes.contains { $0.contains("custom/colors") && $0.contains("enum") }, "\(reader.notes)")
    }

    func testHalfFloatValuesDecodeLikeNumpy() throws {
        let reader = try open("dtypes.h5")
        let halves = try reader.tensor(named: "le.float16").floats()
        XCTAssertEqual(Array(halves.prefix(7)), [0.0, -0.0, 1.0, -2.5, 65504.0, Float(Float16(6e-8)), Float(Float16(1e-5))])
        XCTAssertEqual(halves[7], .infinity)
        XCTAssertTrue(halves[9].isNaN)
        XCTAssertEqual(try reader.tensor(named: "scalar.f32").floats(), [1.25])
    }

    func testKeras3Layout() throws {
        let reader = try open("keras3.weights.h5")
        try HDF5ExpectedFixture.load("keras3.weights").verify(reader)
        XCTAssertEqual(reader.layoutDescription, KerasLayout.keras3.rawValue)
    }

    func testKeras2Layout() throws {
        let reader = try open("keras2.h5")
        try HDF5ExpectedFixture.load("keras2").verify(reader)
        XCTAssertEqual(reader.layoutDescription, KerasLayout.keras2.rawValue)
        XCTAssertEqual(reader.metadata["keras_version"], "2.15.0")
        XCTAssertEqual(reader.metadata["layer_names"], #"["dense", "dropout", "dense_1", "sequential", "batch_normalization"]"#)
    }

    func testKeras2FullModelSave() throws {
        let reader = try open("keras2_model.h5")
        try HDF5ExpectedFixture.load("keras2_model").verify(reader)
        XCTAssertEqual(reader.layoutDescription, KerasLayout.keras2.rawValue)
    }

    func testNotHDF5AndEmptyFilesNameTheFile() throws {
        for name in ["not_hdf5.h5", "empty.h5"] {
            let path = TestPaths.fixture("hdf5/\(name)")
            XCTAssertThrowsError(try HDF5Reader(path: path)) { error in
                XCTAssertEqual(error as? HDF5Error, .notHDF5(path: path))
                XCTAssertTrue("\(error)".hasPrefix(path))
            }
        }
    }

    func testTruncatedFileGivesOneLineError() throws {
        let path = TestPaths.fixture("hdf5/truncated.h5")
        XCTAssertThrowsError(try HDF5Reader(path: path)) { error in
            guard case .cannotOpen(let p, let reason)? = error as? HDF5Error else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
            XCTAssertTrue(reason.contains("truncated"), reason)
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }

    /// libhdf5 1.10 segfaults reading a string from a damaged global heap; tvtool checks the
    /// heap collections first and reports the file as corrupt.
    func testDamagedGlobalHeapIsAnErrorNotACrash() throws {
        let path = TestPaths.fixture("hdf5/bad_heap.h5")
        XCTAssertThrowsError(try HDF5Reader(path: path)) { error in
            guard case .corrupt(let p, _, let reason)? = error as? HDF5Error else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
            XCTAssertTrue(reason.contains("global heap") && reason.contains("exceeds the collection"), reason)
        }
    }

    func testMissingFile() {
        XCTAssertThrowsError(try HDF5Reader(path: "/nonexistent/x.h5")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/x.h5"), "\(error)")
        }
    }

    func testDamagedChunkFailsOnReadNamingTheTensor() throws {
        let reader = try open("bad_chunk.h5")
        XCTAssertEqual(reader.tensors.map(\.name), ["bad", "good"])
        XCTAssertEqual(try reader.tensor(named: "good").floats(), [0, 1, 2, 3])
        XCTAssertThrowsError(try reader.tensor(named: "bad")) { error in
            guard case .readFailed(_, let tensor, _)? = error as? HDF5Error else { return XCTFail("\(error)") }
            XCTAssertEqual(tensor, "bad")
        }
        XCTAssertThrowsError(try reader.tensor(named: "nope")) { error in
            XCTAssertEqual(error as? StorageError, .tensorNotFound(path: reader.path, tensor: "nope"))
        }
    }

    /// libhdf5 is serial: concurrent reads must be serialised by the reader, not crash.
    func testConcurrentReadsAreSafe() throws {
        let reader = try open("dtypes.h5")
        let expected = try HDF5ExpectedFixture.load("dtypes")
        let names = expected.tensors.map(\.name)
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            let t = expected.tensors[i % names.count]
            guard let tensor = try? reader.tensor(named: t.name), h5Hex(tensor.storage.buffer) == t.hex else {
                failures.increment()
                return
            }
        }
        XCTAssertEqual(failures.value, 0)
    }

    func testOpensThroughCheckpoints() throws {
        let reader = try Checkpoints.open(TestPaths.fixture("hdf5/keras2.h5"))
        XCTAssertTrue(reader is HDF5Reader)
        try HDF5ExpectedFixture.load("keras2").verify(reader)
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func increment() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

/// Contiguous datasets come back as views of the mapped file; the rest through libhdf5.
final class HDF5MappingTests: XCTestCase {
    func testContiguousDatasetsAreMappedEvenAfterAUserBlock() throws {
        let reader = try HDF5Reader(path: TestPaths.fixture("hdf5/userblock.h5"))
        try HDF5ExpectedFixture.load("userblock").verify(reader)
        XCTAssertNotNil(try reader.tensor(named: "contiguous").storage.mapping)
        XCTAssertNotNil(try reader.tensor(named: "half").storage.mapping)
        XCTAssertNil(try reader.tensor(named: "chunked").storage.mapping)
    }

    func testOnlyUnconvertedDatasetsAreMapped() throws {
        let reader = try HDF5Reader(path: TestPaths.fixture("hdf5/dtypes.h5"))
        XCTAssertNotNil(try reader.tensor(named: "le.float32").storage.mapping)
        XCTAssertNil(try reader.tensor(named: "be.float32").storage.mapping, "big-endian data are swapped into owned memory")
        XCTAssertNil(try reader.tensor(named: "le.bool").storage.mapping, "bools are normalised into owned memory")
        XCTAssertNil(try reader.tensor(named: "gzip.f32").storage.mapping)
        XCTAssertNil(try reader.tensor(named: "custom.odd_float").storage.mapping)
    }
}

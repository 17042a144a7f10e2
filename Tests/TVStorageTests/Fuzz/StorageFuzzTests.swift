import XCTest
@testable import TVStorage

/// Fuzz targets for the in-process readers (safetensors header and data, PyTorch zip + pickle):
/// every mutant must open and read, or fail with a typed one-line error. See TestSupport/Fuzzer.
final class StorageFuzzTests: XCTestCase {
    private func seeds(_ folder: String, extensions: [String]) -> [[UInt8]] {
        let dir = TestPaths.fixture(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.sorted().filter { n in extensions.contains { n.hasSuffix($0) } }
            .map { fuzzSeed(dir + "/" + $0) }.filter { !$0.isEmpty && $0.count < 200_000 }
    }

    /// Opens and reads every tensor; errors must be typed and one line.
    private func exercise(_ path: String, open: (String) throws -> any CheckpointReader) {
        do {
            let reader = try open(path)
            for t in reader.tensors.prefix(64) { _ = try reader.tensor(named: t.name) }
        } catch {
            XCTAssertTrue(error is BadInputError, "untyped error \(type(of: error)): \(error)")
            XCTAssertFalse("\(error)".contains("\n"), "multi-line error: \(error)")
        }
    }

    func testFuzzSafetensors() throws {
        var fuzz = Fuzzer(target: "safetensors")
        let corpus = seeds("safetensors/accepted", extensions: [".safetensors"]) + seeds("safetensors/dtypes", extensions: [".safetensors"])
        XCTAssertFalse(corpus.isEmpty)
        let path = TestPaths.scratchDirectory("fuzz-st").appendingPathComponent("m.safetensors").path
        let markers = ["\"data_offsets\"", "\"shape\"", "\"dtype\"", "__metadata__", "["].map { Array($0.utf8) }
        while fuzz.next() {
            let seed = corpus[fuzz.int(0..<corpus.count)]
            let mutant: [UInt8]
            switch fuzz.int(0..<3) {
            case 0: mutant = fuzz.mutate(seed)
            case 1: mutant = fuzz.mutateNear(markers[fuzz.int(0..<markers.count)], in: seed, window: 24)
            default: mutant = fuzz.mutateNear([], in: seed, window: 8)  // the 8-byte header length
            }
            FileManager.default.createFile(atPath: path, contents: Data(mutant))
            exercise(path) { try SafetensorsReader(path: $0) }
        }
        print("safetensors fuzz: \(fuzz.summary)")
    }

    func testFuzzPyTorch() throws {
        var fuzz = Fuzzer(target: "pytorch")
        let corpus = seeds("pytorch", extensions: [".pt", ".bin", ".ckpt"])
        XCTAssertFalse(corpus.isEmpty)
        let path = TestPaths.scratchDirectory("fuzz-pt").appendingPathComponent("m.pt").path
        // Zip records (local, central, end) and pickle opcodes that carry sizes and indices.
        let markers: [[UInt8]] = [[0x50, 0x4b, 0x03, 0x04], [0x50, 0x4b, 0x01, 0x02], [0x50, 0x4b, 0x05, 0x06],
                                  Array("data.pkl".utf8), [0x80, 0x02], Array("storage".utf8), [0x4a], [0x4b], [0x71], [0x68]]
        while fuzz.next() {
            let seed = corpus[fuzz.int(0..<corpus.count)]
            let mutant = fuzz.chance(0.5) ? fuzz.mutate(seed) : fuzz.mutateNear(markers[fuzz.int(0..<markers.count)], in: seed)
            FileManager.default.createFile(atPath: path, contents: Data(mutant))
            exercise(path) { try PyTorchReader(path: $0) }
        }
        print("pytorch fuzz: \(fuzz.summary)")
    }
}

extension StorageFuzzTests {
    /// Found by the PyTorch fuzzer: zip entry names holding line breaks made multi-line errors.
    func testErrorsQuotingEntryNamesAreOneLine() {
        let e = ZipError.duplicateEntry(path: "m.pt", entry: "archive/\ndata.pkl\u{1b}[2J")
        XCTAssertEqual(e.description, "m.pt: " + e.description.dropFirst("m.pt: ".count))
        XCTAssertFalse(e.description.contains("\n"))
        XCTAssertFalse(HDF5Error.corrupt(path: "a\nb.h5", object: "/x\ny", reason: "r").description.contains("\n"))
        XCTAssertFalse(PyTorchError.missingDataPickle(path: "x\n.pt").description.contains("\n"))
        XCTAssertFalse(StorageError.tensorNotFound(path: "p", tensor: "a\nb").description.contains("\n"))
    }
}

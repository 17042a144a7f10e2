import XCTest
@testable import TVStorage

/// Regression tests for issue 13 (hostile and careless input) at the storage layer.
final class HostileStorageTests: XCTestCase {
    // MARK: global heap walk (mirrors libhdf5 1.10's H5HG__cache_heap_deserialize)

    /// A collection: "GCOL", version, 3 reserved bytes, size; then the given objects
    /// (index, size, payload bytes) and a free-space object filling the rest.
    private func collection(reserved: [UInt8] = [0, 0, 0], objects: [(UInt16, UInt64, Int)], size: Int = 4096,
                            freeSize: UInt64? = nil) -> [UInt8] {
        var b = Array("GCOL".utf8) + [1] + reserved
        b += withUnsafeBytes(of: UInt64(size).littleEndian, Array.init)
        for (index, objectSize, payload) in objects {
            b += withUnsafeBytes(of: index.littleEndian, Array.init) + [1, 0, 0, 0, 0, 0]
            b += withUnsafeBytes(of: objectSize.littleEndian, Array.init)
            b += [UInt8](repeating: 0x61, count: (payload + 7) / 8 * 8)
        }
        let free = freeSize ?? UInt64(size - b.count)
        b += [0, 0, 0, 0, 0, 0, 0, 0] + withUnsafeBytes(of: free.littleEndian, Array.init)
        return b + [UInt8](repeating: 0, count: max(0, size - b.count))
    }

    private func damage(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { HDF5GlobalHeapCheck.damage(in: $0) }
    }

    func testSoundCollectionPasses() {
        XCTAssertNil(damage(collection(objects: [(1, 13, 13), (2, 8, 8)])))
    }

    /// libhdf5 ignores the reserved bytes: a damaged size behind non-zero ones is still found.
    func testReservedBytesDoNotHideDamage() {
        XCTAssertNil(damage(collection(reserved: [0xff, 1, 0x7f], objects: [(1, 13, 13)])))
        let bad = damage(collection(reserved: [0xff, 1, 0x7f], objects: [(1, 1 << 40, 13)]))
        XCTAssertTrue(bad?.contains("object 1 of 1099511627776 bytes exceeds the collection") == true, bad ?? "nil")
    }

    /// A zero-size free-space object never advances libhdf5's walk (endless loop).
    func testZeroFreeSpaceIsDamage() {
        let bad = damage(collection(objects: [(1, 13, 13)], freeSize: 0))
        XCTAssertTrue(bad?.contains("free space of 0 bytes") == true, bad ?? "nil")
    }

    /// Index 0 in the middle advances by its size and the walk continues, as in libhdf5.
    func testFreeSpaceInTheMiddleIsWalkedPast() {
        var b = collection(objects: [(1, 8, 8)])
        // Turn object 1 (at 16) into free space of 24 bytes; the next header (free, at 40) follows.
        b[16] = 0; b[17] = 0
        b.replaceSubrange(24..<32, with: withUnsafeBytes(of: UInt64(24).littleEndian, Array.init))
        XCTAssertNil(damage(b))
        b.replaceSubrange(48..<56, with: withUnsafeBytes(of: UInt64(1 << 20).littleEndian, Array.init))
        XCTAssertNotNil(damage(b))
    }

    /// The scan runs before dataset values are known: "GCOL" bytes inside values look like a
    /// collection, but libhdf5 only reads one whose address a heap ID holds, so a damaged one
    /// whose address appears nowhere is ignored; once referenced (8 bytes LE) it is damage.
    func testUnreferencedDamagedCollectionIsIgnored() {
        let prefix = [UInt8](repeating: 0x55, count: 0x30)
        let bad = collection(objects: [(1, 13, 13)], freeSize: 0)
        XCTAssertNil(damage(prefix + bad))
        XCTAssertNotNil(damage(prefix + bad + withUnsafeBytes(of: UInt64(0x30).littleEndian, Array.init)))
        // With a 512-byte user block, addresses count from the superblock signature.
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
        let user = [UInt8](repeating: 0x55, count: 512) + signature + [UInt8](repeating: 0x55, count: 0x28)
        let at = user.count - 512  // 0x30 from the superblock
        XCTAssertNil(damage(user + bad + withUnsafeBytes(of: UInt64(user.count).littleEndian, Array.init)))
        XCTAssertNotNil(damage(user + bad + withUnsafeBytes(of: UInt64(at).littleEndian, Array.init)))
    }

    /// Many damaged-looking, unreferenced candidates: each would cost a whole-file reference
    /// search, so beyond 16 the file is refused (the check stays linear in the file size).
    func testManyUnreferencedCandidatesAreCapped() {
        let candidate = Array("GCOL".utf8) + [1, 0, 0, 0] + [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]
        var b: [UInt8] = []
        for _ in 0..<20 { b += [UInt8](repeating: 0x55, count: 48) + candidate }
        XCTAssertNil(damage(Array(b.prefix(16 * 64))))  // 16: ignored (nothing references them)
        let bad = damage(b)
        XCTAssertTrue(bad?.contains("more than 16 damaged-looking global heaps") == true, bad ?? "nil")
    }

    /// The allocation guard of a legal tensor's read: refused sizes are told apart from granted ones.
    func testAllocationProbe() throws {
        let overcommit = (try? String(contentsOfFile: "/proc/sys/vm/overcommit_memory", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard overcommit == "0" || overcommit == "2" else { throw XCTSkip("vm.overcommit_memory=\(overcommit ?? "?")") }
        XCTAssertFalse(ByteStorage.canAllocate(1 << 39))
        XCTAssertTrue(ByteStorage.canAllocate(1 << 20))
    }

    // MARK: declared sizes against what the file holds

    /// A dataset declaring more values than its stored bytes can hold (a damaged contiguous
    /// dimension; chunks never written, plain or gzip) is refused when the file is opened, naming
    /// the dataset, so no command sizes a buffer by it (make.py: 4 GiB over 16 KB / 240 KB).
    func testHDF5DeclaredSizesBeyondTheStoredBytesAreRefusedAtOpen() throws {
        for (file, need, stored) in [("chunked_partly_written.h5", "4.29 GB", "16.38 KB (damaged, or chunks never written)"),
                                     ("gzip_partly_written.h5", "4.29 GB", "242.84 KB compressed (damaged, or chunks never written)"),
                                     ("chunked_unwritten_huge.h5", "549.76 GB", "0 B (damaged, or chunks never written)"),
                                     ("contiguous_dims_damaged.h5", "68.72 GB", "16 B (damaged)")] {
            XCTAssertThrowsError(try HDF5Reader(path: TestPaths.fixture("hostile/" + file)), file) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(file) && text.contains("needs \(need) but the file stores \(stored)"), text)
                XCTAssertFalse(text.contains("\n"), text)
            }
        }
        // The legal extreme opens: 16 MiB of gzip'd zeros in about 16 KB (ratio ~1028:1).
        let zeros = try HDF5Reader(path: TestPaths.fixture("hostile/gzip_zeros.h5"))
        let z = try zeros.tensor(named: "z")
        XCTAssertEqual(z.shape, [2048, 2048])
        XCTAssertTrue(try z.floats().allSatisfy { $0 == 0 })
    }

    /// A deflated zip entry claiming more than deflate can expand to (4 GiB from 5 bytes, the
    /// pickle agreeing) is refused when the archive is opened, not at the first read.
    func testDeflatedStorageClaimingTooMuchIsRefusedAtOpen() {
        XCTAssertThrowsError(try PyTorchReader(path: TestPaths.fixture("hostile/deflated_size_lie.pt"))) { error in
            XCTAssertTrue("\(error)".contains("'archive/data/0' claims an impossible compression ratio (4294967292 bytes from 5)"), "\(error)")
        }
    }

    func testCollectionSizeBeyondTheFileIsDamage() {
        let bad = damage(Array(collection(objects: [(1, 8, 8)]).prefix(100)))
        XCTAssertTrue(bad?.contains("does not fit") == true, bad ?? "nil")
    }

    // MARK: files that are not regular files

    func testNamedPipeInputsFailAtOnce() throws {
        let dir = TestPaths.scratchDirectory("fifo")
        for name in ["m.safetensors", "m.h5", "m.pt", "idx.safetensors.index.json"] {
            let path = dir.appendingPathComponent(name).path
            XCTAssertEqual(mkfifo(path, 0o600), 0)
            let start = Date()
            XCTAssertThrowsError(try Checkpoints.open(path), name) { error in
                XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 5, name)
        }
        let unet = dir.appendingPathComponent("unet")
        try FileManager.default.createDirectory(at: unet, withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(unet.appendingPathComponent("diffusion_pytorch_model.safetensors").path, 0o600), 0)
        XCTAssertThrowsError(try Checkpoints.open(dir.path))
        if case .failure(let e) = RegularFile.readAll(dir.appendingPathComponent("m.h5").path) {
            XCTAssertTrue("\(e)".contains("not a regular file"))
        } else { XCTFail("a pipe was read") }
    }

    // MARK: outputs against inputs

    func testOutputGuardSeesPathsLinksAndFolders() throws {
        let dir = TestPaths.scratchDirectory("guard")
        let input = dir.appendingPathComponent("in.safetensors").path
        FileManager.default.createFile(atPath: input, contents: Data("x".utf8))
        let hard = dir.appendingPathComponent("hard.safetensors").path
        XCTAssertEqual(link(input, hard), 0)
        let sym = dir.appendingPathComponent("sym.safetensors").path
        try FileManager.default.createSymbolicLink(atPath: sym, withDestinationPath: input)
        for output in [input, hard, sym, dir.path + "/./sub/../in.safetensors"] {
            XCTAssertThrowsError(try OutputGuard.check(outputs: [output], inputs: [input]), output) { error in
                XCTAssertEqual(error as? StorageError, .wouldOverwriteInput(path: output))
            }
        }
        // An existing file inside an input folder (a new one is fine); two outputs naming one file.
        XCTAssertNoThrow(try OutputGuard.check(outputs: [dir.appendingPathComponent("x.h5").path], inputs: [dir.path]))
        XCTAssertThrowsError(try OutputGuard.check(outputs: [input], inputs: [dir.path]))
        let out = dir.appendingPathComponent("o.safetensors").path
        XCTAssertThrowsError(try OutputGuard.check(outputs: [out, dir.path + "/./o.safetensors"], inputs: [input]))
        XCTAssertNoThrow(try OutputGuard.check(outputs: [out], inputs: [input]))
        XCTAssertEqual(try String(contentsOfFile: input, encoding: .utf8), "x")
    }

    func testFolderAsOutputIsNamedAsAFolder() throws {
        let dir = TestPaths.scratchDirectory("outdir")
        XCTAssertThrowsError(try Checkpoints.create(dir.path, tensors: [], metadata: [:])) { error in
            XCTAssertTrue("\(error)".contains("is a folder"), "\(error)")
            XCTAssertFalse("\(error)".contains("unknown checkpoint format"), "\(error)")
        }
    }

    // MARK: HDF5 names and complex compounds

    func testNULInAnHDF5NameIsAnError() throws {
        let dir = TestPaths.scratchDirectory("nul")
        let t = try Tensor.fromFloats([1], shape: [1])
        XCTAssertThrowsError(try Checkpoints.create(dir.appendingPathComponent("a.h5").path,
                                                    tensors: [t.info(name: "a\u{0}b"), t.info(name: "a\u{0}c")], metadata: [:])) { error in
            XCTAssertTrue("\(error)".contains("NUL"), "\(error)")
        }
        XCTAssertThrowsError(try Checkpoints.create(dir.appendingPathComponent("b.h5").path,
                                                    tensors: [t.info(name: "a")], metadata: ["k\u{0}": "v"]))
    }

    /// {i, r} fields: values must come out as r + i·j (fixture values from numpy, make.py).
    func testComplexCompoundIsReadByFieldName() throws {
        let reader = try HDF5Reader(path: TestPaths.fixture("hostile/complex.h5"))
        XCTAssertEqual(reader.tensors.map(\.name), ["z"])
        let z = try reader.tensor(named: "z")
        XCTAssertEqual(z.dtype, .c64)
        let parts = z.storage.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        XCTAssertEqual(parts, [1, 10, 2, 20, 3, 30])
        XCTAssertTrue(reader.notes.contains { $0.contains("complex128") }, "\(reader.notes)")
    }

    // MARK: wording

    func testSafetensorsWordingsSayWhatIsWrong() throws {
        func header(_ json: String) -> [UInt8] {
            var h = json
            while h.utf8.count % 8 != 0 { h += " " }
            return withUnsafeBytes(of: UInt64(h.utf8.count).littleEndian, Array.init) + Array(h.utf8)
        }
        func message(_ json: String) -> String {
            let bytes = header(json)
            do { _ = try bytes.withUnsafeBytes { try SafetensorsHeader.parse(file: $0, path: "m.safetensors") } } catch { return "\(error)" }
            return "no error"
        }
        XCTAssertEqual(message(#"{"__metadata__":"x"}"#), #"m.safetensors: __metadata__ is "x", expected an object of strings"#)
        XCTAssertTrue(message(#"{"__metadata__":{"a":"1","a":"2"}}"#).contains("has the key 'a' more than once"))
        XCTAssertEqual(message(#"{"t":{"dtype":"F32","dtype":"F32","shape":[],"data_offsets":[0,4]}}"#),
                       "m.safetensors: tensor 't': field 'dtype' appears more than once")
    }

    // MARK: name lookups stay fast

    /// diff and merge ask every reader for each tensor by name: it must be an index lookup.
    func testInfoByNameIsIndexed() throws {
        let dir = TestPaths.scratchDirectory("many")
        let path = dir.appendingPathComponent("many.safetensors").path
        let n = 40_000
        let t = try Tensor.fromFloats([0], shape: [1])
        let names = (0..<n).map { "layer.\($0).weight" }
        let w = try Checkpoints.create(path, tensors: names.map { t.info(name: $0) }, metadata: [:])
        for name in names { try w.write(t, named: name) }
        try w.finish()
        let reader = try Checkpoints.open(path)
        let start = Date()
        for name in names.reversed() { XCTAssertNotNil(reader.info(named: name)) }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "info(named:) is not indexed")
        XCTAssertNil(reader.info(named: "nope"))
    }

    // MARK: deflated storages

    /// 1000 views of one deflated 8 MB storage (fixture from make.py; values are the pattern
    /// i mod 16): inflated once, not per view (each inflation costs tens of milliseconds here).
    func testManyViewsOfADeflatedStorageInflateOnce() throws {
        let reader = try PyTorchReader(path: TestPaths.fixture("hostile/many_views_deflated.pt"))
        XCTAssertEqual(reader.tensors.count, 1000)
        let start = Date()
        for i in [0, 1, 500, 999] + Array(0..<1000) {
            let values = try reader.tensor(named: "v\(i)").floats()
            XCTAssertEqual(values, (0..<4).map { Float((i * 2000 + $0) % 16) })
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 10, "the storage is inflated per view")
    }

    // MARK: console

    func testPrintableEscapesControlsButKeepsLines() {
        XCTAssertEqual(Console.printable("a\u{1b}]52;c;eA==\u{7}b\nc\u{9b}d\u{202e}e"), "a\\u{1b}]52;c;eA==\\u{7}b\nc\\u{9b}d\\u{202e}e")
        XCTAssertEqual(Console.oneLine("x\ny"), "x\\u{a}y")
    }
}

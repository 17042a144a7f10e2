import XCTest

/// Fuzz target for HDF5 input. libhdf5 (C) can crash or loop on a damaged file, so each mutant
/// is read by a separate `tvtool inspect` or `convert` (structure, attributes, values) with
/// a time limit: the only acceptable outcomes are exit 0, or exit 2 with one line on stderr.
final class HDF5FuzzTests: XCTestCase {
    struct Outcome { var status: Int32; var stderr: String; var timedOut: Bool }

    /// `inspect` walks the structure and attributes; `readValues` converts the file instead, so
    /// that every dataset's values go through libhdf5 too.
    static func inspect(_ path: String, readValues: Bool = false, timeout: Double = 20) throws -> Outcome {
        let p = Process()
        p.executableURL = TVToolBinary.url
        p.arguments = readValues ? ["convert", path, path + ".out.safetensors", "--quiet"] : ["inspect", path]
        defer { if readValues { try? FileManager.default.removeItem(atPath: path + ".out.safetensors") } }
        let errURL = URL(fileURLWithPath: path + ".stderr")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(2_000) }
        let timedOut = p.isRunning
        if timedOut { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus, stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "", timedOut: timedOut)
    }

    func testFuzzHDF5() throws {
        var fuzz = Fuzzer(target: "hdf5", defaultSeconds: 3)
        let dir = TestPaths.fixture("hdf5")
        let corpus = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
            .filter { $0.hasSuffix(".h5") }.map { fuzzSeed(dir + "/" + $0) }.filter { $0.count > 512 && $0.count < 200_000 }
        XCTAssertFalse(corpus.isEmpty)
        let scratch = TestPaths.scratchDirectory("fuzz-h5")
        let findings = scratch.appendingPathComponent("findings")
        // Structure-aware targets: signatures of the superblock, object headers, B-trees, local
        // and global heaps, symbol nodes, fractal heaps; sizes and addresses follow them.
        let markers = ["\u{89}HDF", "OHDR", "OCHK", "TREE", "HEAP", "GCOL", "SNOD", "FRHP", "FHDB", "BTHD", "BTLF"]
            .map { Array($0.utf8) }
        var found = 0
        while fuzz.next() {
            let seed = corpus[fuzz.int(0..<corpus.count)]
            let mutant = fuzz.chance(0.4) ? fuzz.mutate(seed) : fuzz.mutateNear(markers[fuzz.int(0..<markers.count)], in: seed, window: 96)
            let path = scratch.appendingPathComponent("m.h5").path
            FileManager.default.createFile(atPath: path, contents: Data(mutant))
            let r = try Self.inspect(path, readValues: fuzz.executions % 2 == 0)
            let lines = r.stderr.split(separator: "\n").count
            let ok = !r.timedOut && (r.status == 0 || (r.status == 2 && lines == 1))
            if !ok {
                found += 1
                try? FileManager.default.createDirectory(at: findings, withIntermediateDirectories: true)
                let keep = findings.appendingPathComponent("finding-\(fuzz.executions).h5")
                try? FileManager.default.copyItem(atPath: path, toPath: keep.path)
                XCTFail("\(keep.path): status \(r.status)\(r.timedOut ? " (timed out)" : ""), stderr: \(r.stderr.prefix(300))")
                if found >= 5 { break }
            }
        }
        print("hdf5 fuzz: \(fuzz.summary), \(found) findings")
    }

    /// Issue 13 (and a damaged heap reference found while mirroring H5HG.c; a damaged string
    /// length found by this fuzzer, which cost libhdf5 ~1 min and GBs): heaps libhdf5 1.10
    /// segfaults, loops or thrashes on are one-line errors (exit 2), fast.
    func testDamagedGlobalHeapsAreErrors() throws {
        for (name, words) in [("heap_reserved.h5", "exceeds the collection"), ("heap_free_zero.h5", "free space of 0 bytes"),
                              ("heap_bad_index.h5", "structure or attributes are damaged"),
                              ("heap_huge_length.h5", "a string attribute cannot be read"),
                              ("datatype_damaged.h5", "structure or attributes are damaged")] {
            let start = Date()
            let r = try Self.inspect(TestPaths.fixture("hostile/" + name))
            XCTAssertFalse(r.timedOut, name)
            XCTAssertLessThan(Date().timeIntervalSince(start), 10, name)
            XCTAssertEqual(r.status, 2, name)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(words), r.stderr)
        }
    }
}

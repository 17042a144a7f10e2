import Foundation
import XCTest
@testable import TVStorage

/// Seeded random damage to real torch.save output: every variant must either read or throw a
/// typed error — never trap, hang or read outside the file.
final class PyTorchMutationTests: XCTestCase {
    // SplitMix64 (TVStorage): deterministic, so a failure is reproducible from its iteration number.
    private func mutate(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = bytes
        for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) {
            let i = Int.random(in: 0 ..< b.count, using: &rng)
            switch Int.random(in: 0 ..< 3, using: &rng) {
            case 0: b[i] = UInt8.random(in: 0 ... 255, using: &rng)
            case 1: b.remove(at: i)
            default: b.insert(UInt8.random(in: 0 ... 255, using: &rng), at: i)
            }
        }
        return b
    }

    func testMutatedPicklesNeverCrashTheUnpickler() throws {
        let zip = try ZipArchive(file: MappedFile(path: PyTorchFixtures.path("views.pt")))
        let entry = try XCTUnwrap(zip.entries.first { $0.name.hasSuffix("/data.pkl") })
        let pickle = Array(try zip.storedBytes(of: entry))
        var rng = SplitMix64(seed: 7)
        var accepted = 0
        for _ in 0 ..< 3000 {
            let bytes = mutate(pickle, &rng)
            let ok: Bool = bytes.withUnsafeBytes { buf in
                guard let (root, arena) = try? Unpickler.load(buf, path: "m.pkl") else { return false }
                var f = StateDictFlattener(path: "m.pkl", arena: arena, maxVisits: buf.count + 1024)
                for tensor in arena.tensors { _ = try? TensorLayout(tensor) }
                return (try? f.flatten(root, nestedKey: nil)) != nil
            }
            if ok { accepted += 1 }
        }
        XCTAssertLessThan(accepted, 3000, "mutations should break most pickles")
    }

    func testMutatedArchivesNeverCrashTheReader() throws {
        try mutateArchive("views.pt", iterations: 300, seed: 11)
        try mutateArchive("deflated.pt", iterations: 300, seed: 13)
    }

    private func mutateArchive(_ name: String, iterations: Int, seed: UInt64) throws {
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: PyTorchFixtures.path(name))))
        let dir = TestPaths.scratchDirectory("pytorch-mutate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("m.pt")
        var rng = SplitMix64(seed: seed)
        for _ in 0 ..< iterations {
            try Data(mutate(original, &rng)).write(to: file)
            guard let reader = try? PyTorchReader(path: file.path) else { continue }
            for info in reader.tensors {
                if let t = try? reader.tensor(named: info.name) {
                    XCTAssertEqual(t.byteCount, info.byteCount)
                }
            }
        }
    }
}

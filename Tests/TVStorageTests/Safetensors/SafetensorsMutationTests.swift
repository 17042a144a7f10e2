import Foundation
import XCTest
@testable import TVStorage

/// Randomised robustness: bit flips, byte overwrites and truncations of valid files must either
/// throw a typed error or read successfully (every tensor view fully readable) — never crash.
final class SafetensorsMutationTests: XCTestCase {
    /// xorshift64*: a tiny seeded generator so failures reproduce.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return state &* 2685821657736338717
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    func testMutatedFilesThrowOrRead() throws {
        let sources = ["safetensors/dtypes/all_dtypes.safetensors", "safetensors/sharded/model-00002-of-00002.safetensors",
                       "safetensors/accepted/unknown_field.safetensors"]
        let dir = TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("mutant.safetensors").path
        var rng = Rng(state: 0x5eed_1234_abcd_ef01)
        var (threw, read) = (0, 0)
        let originals = try sources.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture($0)))) }
        for round in 0..<3000 {
            var bytes = originals[round % originals.count]
            let headerEnd = min(bytes.count, 8 + Int(bytes[0]) + Int(bytes[1]) << 8)
            // Mostly target the header, where the parsing happens.
            for _ in 0...rng.below(4) {
                let i = rng.below(4) == 0 ? rng.below(bytes.count) : rng.below(min(headerEnd, bytes.count))
                switch rng.below(4) {
                case 0: bytes[i] ^= UInt8(1 << rng.below(8))
                case 1: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                case 2: bytes[i] = Array("{}[],:\"0123456789-.e \\".utf8)[rng.below(22)]
                default: bytes.removeSubrange(rng.below(bytes.count)..<bytes.count)
                }
                if bytes.isEmpty { break }
            }
            do {
                if round % 20 == 0 {
                    // Through the real reader (mapping, views) every 20th round…
                    try Data(bytes).write(to: URL(fileURLWithPath: path))
                    let r = try SafetensorsReader(path: path)
                    for info in r.tensors { try touch(try r.tensor(named: info.name)) }
                } else {
                    // …otherwise the same validation on the bytes in memory, with views built the
                    // same way (ByteStorage would trap on a range outside the buffer).
                    try bytes.withUnsafeBytes { buf in
                        let header = try SafetensorsHeader.parse(file: buf, path: "mutant")
                        let owner = ByteStorage(copying: buf)
                        for e in header.entries {
                            precondition(header.dataStart + e.end <= buf.count)
                            let view = ByteStorage(viewing: owner.base + header.dataStart + e.begin, count: e.end - e.begin, owner: owner)
                            try touch(try Tensor(dtype: e.dtype, shape: e.shape, storage: view))
                        }
                    }
                }
                read += 1
            } catch is SafetensorsError {
                threw += 1
            } catch {
                XCTFail("round \(round): unexpected \(error)")
            }
        }
        XCTAssertGreaterThan(threw, 1000)
        XCTAssertGreaterThan(read, 10)
    }

    /// Reads every byte of the view and decodes arithmetic dtypes.
    private func touch(_ t: Tensor) throws {
        var sum: UInt8 = 0
        for b in t.storage.buffer { sum &+= b }
        XCTAssertGreaterThanOrEqual(Int(sum), 0)
        if t.dtype.supportsArithmetic { _ = try t.floats() }
    }
}

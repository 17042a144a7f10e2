import Foundation
import TVStorage

/// A small deterministic mutation fuzzer shared by the per-format fuzz tests.
///
/// Each target mutates seed inputs (byte flips, interesting values, 8-byte little-endian
/// fields, truncation, splices, copied and deleted runs, and the target's own structure-aware
/// edits) and hands every mutant to the parser, which must return or throw a typed one-line
/// error: a crash, trap, hang or multi-line message is a finding. The run is reproducible from
/// `TVTOOL_FUZZ_SEED`; its length is `TVTOOL_FUZZ_SECONDS` (default: a short CI run).
/// `scripts/fuzz TARGET --minutes N` runs one target for longer.
public struct Fuzzer {
    public var rng: Rng
    public let deadline: Date
    public let seed: UInt64
    public let baseSeed: UInt64
    public private(set) var executions = 0

    /// TVStorage's SplitMix64: the same stream for a seed as before it was shared.
    public typealias Rng = SplitMix64

    /// `defaultSeconds` is the CI budget of this target.
    public init(target: String, defaultSeconds: Double = 1.0) {
        let env = ProcessInfo.processInfo.environment
        let seconds = env["TVTOOL_FUZZ_SECONDS"].flatMap(Double.init) ?? defaultSeconds
        let base = env["TVTOOL_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_251_202
        // One stream per target, so targets do not repeat each other's choices.
        baseSeed = base
        seed = base ^ UInt64(truncatingIfNeeded: target.utf8.reduce(5381) { ($0 << 5) &+ $0 &+ Int($1) })
        rng = SplitMix64(seed: seed)
        deadline = Date().addingTimeInterval(seconds)
    }

    /// True while the budget lasts (counts one execution per call).
    public mutating func next() -> Bool {
        guard Date() < deadline || executions == 0 else { return false }
        executions += 1
        return true
    }

    public mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &rng) }
    public mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    static let interesting8: [UInt8] = [0, 1, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x1b, 0x22, 0x5c]
    static let interesting64: [UInt64] = [0, 1, 7, 8, 15, 16, 255, 256, 4095, 4096, 65535, 65536, 0x7fff_ffff, 0x8000_0000,
                                          0xffff_ffff, 1 << 32, 1 << 40, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, .max]

    /// One to four generic mutations of `input`.
    public mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var b = input
        for _ in 0..<int(1..<5) {
            guard !b.isEmpty else { b = [UInt8.random(in: 0...255, using: &rng)]; continue }
            switch int(0..<9) {
            case 0: b[int(0..<b.count)] ^= UInt8(1) << UInt8(int(0..<8))
            case 1: b[int(0..<b.count)] = Self.interesting8[int(0..<Self.interesting8.count)]
            case 2: b[int(0..<b.count)] = UInt8.random(in: 0...255, using: &rng)
            case 3:
                let at = int(0..<b.count), v = Self.interesting64[int(0..<Self.interesting64.count)]
                for k in 0..<min(8, b.count - at) { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
            case 4:
                let at = int(0..<b.count), v = UInt32(truncatingIfNeeded: Self.interesting64[int(0..<Self.interesting64.count)])
                for k in 0..<min(4, b.count - at) { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
            case 5: b.removeLast(int(0..<b.count))  // truncate
            case 6:  // delete a run
                let at = int(0..<b.count), n = min(int(1..<64), b.count - at)
                b.removeSubrange(at..<(at + n))
            case 7:  // copy a run elsewhere
                let from = int(0..<b.count), n = min(int(1..<64), b.count - from), to = int(0..<b.count)
                b.insert(contentsOf: b[from..<(from + n)], at: to)
            default:  // overwrite a run with a run from elsewhere (a splice within the file)
                let from = int(0..<b.count), to = int(0..<b.count), n = min(int(1..<32), b.count - from, b.count - to)
                b.replaceSubrange(to..<(to + n), with: b[from..<(from + n)])
            }
        }
        return b
    }

    /// Overwrites one field at a position where `marker` occurs (structure-aware edits: sizes and
    /// indices next to HDF5 signatures, JSON offsets, zip records), at an offset of 0..<window.
    public mutating func mutateNear(_ marker: [UInt8], in input: [UInt8], window: Int = 48) -> [UInt8] {
        var hits: [Int] = marker.isEmpty ? [0] : []  // no marker: the file's first bytes
        if !marker.isEmpty && marker.count <= input.count {
            for i in 0...(input.count - marker.count) where input[i] == marker[0] && Array(input[i..<(i + marker.count)]) == marker {
                hits.append(i)
            }
        }
        guard let at = hits.isEmpty ? nil : hits[int(0..<hits.count)] else { return mutate(input) }
        var b = input
        let pos = at + int(0..<window)
        let width = [1, 2, 4, 8][int(0..<4)]
        let v = chance(0.5) ? Self.interesting64[int(0..<Self.interesting64.count)] : UInt64.random(in: 0...UInt64.max, using: &rng)
        for k in 0..<width where pos + k < b.count { b[pos + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
        return b
    }

    /// A line to show in the test log: what ran and how to reproduce it.
    public var summary: String { "\(executions) executions (TVTOOL_FUZZ_SEED=\(baseSeed))" }
}

/// Bytes of a file (fixtures are small).
public func fuzzSeed(_ path: String) -> [UInt8] { [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()) }

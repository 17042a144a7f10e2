import CZlib
import Foundation

/// CRC-32 (the ZIP/zlib polynomial) computed by zlib. Large buffers are split into one chunk per
/// core and the partial CRCs joined with `crc32_combine`, since verifying a multi-GB storage would
/// otherwise run at single-core zlib speed (about 6 GB/s here, a third of memory bandwidth).
enum CRC32 {
    static let parallelThreshold = 4 << 20

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard bytes.count >= parallelThreshold, cores > 1, let base = bytes.baseAddress else {
            return serial(bytes)
        }
        let count = bytes.count
        let chunk = (count + cores - 1) / cores
        let parts = PartialCRCs(count: cores)
        let start = SendablePointer(base: base)
        DispatchQueue.concurrentPerform(iterations: cores) { i in
            let lo = i * chunk, hi = min(count, lo + chunk)
            guard lo < hi else { return }
            parts.set(i, serial(UnsafeRawBufferPointer(start: start.base + lo, count: hi - lo)))
        }
        var crc = uLong(parts.get(0))
        for i in 1 ..< cores {
            let lo = i * chunk, hi = min(count, lo + chunk)
            guard lo < hi else { break }
            crc = crc32_combine(crc, uLong(parts.get(i)), .init(hi - lo))
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    /// zlib takes a 32-bit length: feed it at most 1 GiB at a time.
    static func serial(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = crc32(0, nil, 0)
        guard var p = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return UInt32(crc) }
        var left = bytes.count
        while left > 0 {
            let n = min(left, 1 << 30)
            crc = crc32(crc, p, uInt(n))
            p += n
            left -= n
        }
        return UInt32(truncatingIfNeeded: crc)
    }
}

/// The mapped bytes being checksummed: read-only and alive for the whole concurrentPerform.
private struct SendablePointer: @unchecked Sendable {
    let base: UnsafeRawPointer
}

/// One slot per chunk, each written by exactly one iteration before concurrentPerform returns.
private final class PartialCRCs: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [UInt32]

    init(count: Int) { values = [UInt32](repeating: 0, count: count) }
    func set(_ i: Int, _ v: UInt32) { lock.withLock { values[i] = v } }
    func get(_ i: Int) -> UInt32 { lock.withLock { values[i] } }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks the file's global heap collections before libhdf5 reads variable-length strings.
///
/// Variable-length data (h5py's `str` attributes) live in global heap collections ("GCOL"
/// blocks). libhdf5 1.10 trusts the object sizes recorded there and reads or jumps past the
/// collection when they are damaged (a segfault in H5HG_read, reproduced by byte-flip fuzzing).
/// tvtool therefore finds every collection outside dataset storage and walks it exactly as
/// libhdf5's H5HG__cache_heap_deserialize does; a collection libhdf5 would mis-read becomes an
/// error instead of a crash or an endless loop.
///
/// What libhdf5 1.10 reads (and so what this mirrors): "GCOL", version 1 (anything else is
/// refused by libhdf5 itself), 3 reserved bytes it ignores, the collection size (8 bytes in
/// every file h5py and tvtool write); then, while the cursor is inside the collection, either a
/// tail shorter than an object header (free space) or an object header: index (2), reference
/// count (2), 4 ignored bytes, size (8). The next header is at 16 + size rounded up to 8 for
/// index > 0, and at exactly `size` bytes for index 0 (the free space, size counts its header).
enum HDF5GlobalHeapCheck {
    /// Returns a description of the first damaged collection, or nil when all are sound.
    /// `skipping` are byte ranges holding dataset values (not scanned).
    static func damage(in bytes: UnsafeRawBufferPointer, skipping: [Range<Int>]) -> String? {
        scan(bytes, skipping: skipping).damage
    }

    /// The first damaged collection (if any) and whether the file has any collection at all
    /// (then variable-length strings exist, and the reader probes them: see vlen_probe.h).
    static func scan(_ bytes: UnsafeRawBufferPointer, skipping: [Range<Int>]) -> (damage: String?, found: Bool) {
        var found = false
        guard let base = bytes.baseAddress, bytes.count >= 16 else { return (nil, false) }
        for gap in gaps(total: bytes.count, skipping: skipping) {
            var start = gap.lowerBound
            while start < gap.upperBound {
                // memchr for the 'G', then compare the rest of "GCOL".
                guard let hit = memchr(base + start, 0x47, gap.upperBound - start) else { break }
                let p = UnsafeRawPointer(hit) - base
                if p + 8 <= bytes.count, bytes[p + 1] == 0x43, bytes[p + 2] == 0x4f, bytes[p + 3] == 0x4c {
                    if bytes[p + 4] == 1 { found = true }
                    if let problem = check(bytes, at: p) { return ("global heap at byte \(p): \(problem)", true) }
                }
                start = p + 1
            }
        }
        return (nil, found)
    }

    static let headerSize = 16
    static let objectHeaderSize = 16

    /// Walks one collection the way libhdf5 does; nil when every object stays inside it.
    static func check(_ bytes: UnsafeRawBufferPointer, at p: Int) -> String? {
        guard p + headerSize <= bytes.count else { return nil }
        // libhdf5 refuses any other version with an error of its own: nothing to guard.
        guard bytes[p + 4] == 1 else { return nil }
        let size = bytes.loadUnaligned(fromByteOffset: p + 8, as: UInt64.self)
        guard size >= UInt64(headerSize), size <= UInt64(bytes.count - p) else {
            return "collection size \(size) does not fit between its header and the end of the file"
        }
        let end = p + Int(size)
        var q = p + headerSize
        while q < end {
            if q + objectHeaderSize > end { break }  // a tail too small for a header: free space
            let index = bytes.loadUnaligned(fromByteOffset: q, as: UInt16.self)
            let objectSize = bytes.loadUnaligned(fromByteOffset: q + 8, as: UInt64.self)
            let room = UInt64(end - q)
            let need: UInt64
            if index == 0 {
                // Free space: its size includes its own header. Zero would never advance.
                guard objectSize > 0 else { return "free space of 0 bytes (the collection cannot be walked)" }
                need = objectSize
            } else {
                let (padded, overflow) = objectSize.addingReportingOverflow(7)
                guard !overflow else { return "object \(index) of \(objectSize) bytes exceeds the collection" }
                need = UInt64(objectHeaderSize) + (padded & ~7)
            }
            guard need <= room else {
                return index == 0 ? "free space of \(objectSize) bytes exceeds the collection"
                                  : "object \(index) of \(objectSize) bytes exceeds the collection"
            }
            q += Int(need)
        }
        return nil
    }

    /// The parts of [0, total) not covered by `skipping`.
    static func gaps(total: Int, skipping: [Range<Int>]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var cursor = 0
        for r in skipping.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            let lo = max(0, min(r.lowerBound, total)), hi = max(0, min(r.upperBound, total))
            if lo > cursor { result.append(cursor..<lo) }
            cursor = max(cursor, hi)
        }
        if cursor < total { result.append(cursor..<total) }
        return result
    }
}

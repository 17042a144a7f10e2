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
/// tvtool therefore finds every collection outside dataset storage and checks that each object
/// fits inside it; a damaged one becomes an error instead of a crash.
///
/// Layout (HDF5 file format spec, III.E): "GCOL", version 1, 3 reserved bytes, collection size
/// (a length, 8 bytes in every file h5py and tvtool write), then objects of
/// index (2), reference count (2), reserved (4), size (8), data padded to 8 bytes; index 0 is
/// the free space at the end.
enum HDF5GlobalHeapCheck {
    /// Returns a description of the first damaged collection, or nil when all are sound.
    /// `skipping` are byte ranges holding dataset values (not scanned).
    static func damage(in bytes: UnsafeRawBufferPointer, skipping: [Range<Int>]) -> String? {
        guard let base = bytes.baseAddress, bytes.count >= 16 else { return nil }
        for gap in gaps(total: bytes.count, skipping: skipping) {
            var start = gap.lowerBound
            while start < gap.upperBound {
                // memchr for the 'G', then compare the rest of "GCOL".
                guard let hit = memchr(base + start, 0x47, gap.upperBound - start) else { break }
                let p = UnsafeRawPointer(hit) - base
                if p + 4 <= bytes.count, bytes[p + 1] == 0x43, bytes[p + 2] == 0x4f, bytes[p + 3] == 0x4c,
                   let problem = check(bytes, at: p) {
                    return "global heap at byte \(p): \(problem)"
                }
                start = p + 1
            }
        }
        return nil
    }

    private static func check(_ bytes: UnsafeRawBufferPointer, at p: Int) -> String? {
        guard p + 16 <= bytes.count else { return nil }
        // Version 1 and zero reserved bytes: otherwise these 4 bytes are just data, not a heap.
        guard bytes[p + 4] == 1, bytes[p + 5] == 0, bytes[p + 6] == 0, bytes[p + 7] == 0 else { return nil }
        let size = bytes.loadUnaligned(fromByteOffset: p + 8, as: UInt64.self)
        guard size >= 16, size <= UInt64(bytes.count - p) else { return "collection size \(size) runs past the end of the file" }
        let end = p + Int(size)
        var q = p + 16
        while q + 16 <= end {
            let index = bytes.loadUnaligned(fromByteOffset: q, as: UInt16.self)
            let objectSize = bytes.loadUnaligned(fromByteOffset: q + 8, as: UInt64.self)
            let room = UInt64(end - q)
            if index == 0 {  // free space: the rest of the collection
                return objectSize <= room ? nil : "free space of \(objectSize) bytes exceeds the collection"
            }
            let (padded, overflow) = objectSize.addingReportingOverflow(7)
            guard !overflow, 16 + (padded & ~7) <= room else { return "object \(index) of \(objectSize) bytes exceeds the collection" }
            q += 16 + Int(padded & ~7)
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

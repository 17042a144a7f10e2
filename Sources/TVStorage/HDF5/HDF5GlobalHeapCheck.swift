import CHDF5
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
/// tvtool therefore finds every collection in the file and walks it exactly as
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
    /// Checks the whole mapped file before libhdf5 opens it (inside `HDF5Library.locked`):
    /// throws `HDF5Error.corrupt` for a damaged collection. Then every object is opened and
    /// described, and every attribute read, once in a probe process (vlen_probe.h): a damaged
    /// heap reference or length, or a damaged datatype message, still crashes or thrashes
    /// libhdf5, and there it becomes this error instead.
    static func verify(_ mapping: MappedFile, path: String) throws(HDF5Error) {
        let heaps = scan(mapping.bytes)
        if let damage = heaps.damage { throw .corrupt(path: path, object: "/", reason: damage) }
        switch tv_h5_probe_structure(path, HDF5AttributeIO.maxValues, 60_000) {
        case 0, -2: break
        case -1: throw .corrupt(path: path, object: "/", reason: "reading its structure and attributes did not finish within 60 s")
        case -3: throw .corrupt(path: path, object: "/", reason: "a string attribute cannot be read (a probe process capped at 1 GiB failed: a damaged length or heap reference)")
        case let sig: throw .corrupt(path: path, object: "/", reason: "its structure or attributes are damaged (reading them crashed libhdf5, signal \(sig), in a probe process)")
        }
    }

    /// Returns a description of the first damaged collection libhdf5 could read, or nil.
    static func damage(in bytes: UnsafeRawBufferPointer) -> String? {
        scan(bytes).damage
    }

    /// The first damaged collection (if any) and whether the file has any collection at all
    /// (then variable-length strings exist, and the reader probes them: see vlen_probe.h).
    ///
    /// Runs on the whole file BEFORE libhdf5 opens any object: opening a dataset can already
    /// read a global heap (a virtual dataset's layout message lives in one), and a damaged
    /// collection loops forever inside that open (fixtures/hostile/vds_heap_loop_*.h5).
    /// Dataset values are not known yet, so "GCOL" bytes inside them would look like damaged
    /// collections; libhdf5 only reads a collection through a heap ID holding its address, so a
    /// damaged-looking collection whose address appears nowhere in the file is never read and
    /// is ignored (a real one is always referenced: by an attribute, a layout or a vlen value).
    static func scan(_ bytes: UnsafeRawBufferPointer) -> (damage: String?, found: Bool) {
        var found = false
        guard bytes.count >= 16 else { return (nil, false) }
        let magic: [UInt8] = Array("GCOL".utf8)
        let origin = superblockOffset(bytes)
        // A crafted file can hold a candidate every few bytes: the walks share one budget of
        // objects, and at most `maxUnreferenced` damaged candidates get a reference search
        // (each reads the whole file), so the check stays linear in the file size.
        var budget = objectBudget
        var unreferenced = 0
        var start = 0
        while start + 8 <= bytes.count {
            guard let p = find(magic, in: bytes, from: start) else { break }
            if p + 8 <= bytes.count, bytes[p + 4] == 1 {
                found = true
                if let problem = check(bytes, at: p, budget: &budget) {
                    if isReferenced(p - origin, in: bytes) { return ("global heap at byte \(p): \(problem)", true) }
                    unreferenced += 1
                    if unreferenced > maxUnreferenced {
                        return ("more than \(maxUnreferenced) damaged-looking global heaps (the last at byte \(p): \(problem))", true)
                    }
                }
            }
            start = p + 1
        }
        return (nil, found)
    }

    /// Addresses inside an HDF5 file count from its superblock, which follows the user block
    /// (if any) at 0, 512, 1024, 2048, … bytes.
    static func superblockOffset(_ bytes: UnsafeRawBufferPointer) -> Int {
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
        var offset = 0
        while offset + 8 <= bytes.count {
            if (0..<8).allSatisfy({ bytes[offset + $0] == signature[$0] }) { return offset }
            offset = offset == 0 ? 512 : offset * 2
        }
        return 0
    }

    /// Whether the collection address `p` occurs anywhere in the file as a little-endian
    /// offset (8 bytes, or its low 4 bytes, which also covers files with 4-byte offsets).
    static func isReferenced(_ p: Int, in bytes: UnsafeRawBufferPointer) -> Bool {
        guard p >= 0 else { return false }
        let value = UInt64(p).littleEndian
        let width = p < 1 << 32 ? 4 : 8
        return withUnsafeBytes(of: value) { find(Array($0.prefix(width)), in: bytes, from: 0) != nil }
    }

    /// Offset of the first occurrence of `needle` at or after `start` (C: byte_search.h).
    static func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = bytes.baseAddress, !needle.isEmpty, start >= 0 else { return nil }
        let at = needle.withUnsafeBytes { tv_find_bytes(base, bytes.count, $0.baseAddress, needle.count, start) }
        return at >= 0 ? Int(at) : nil
    }

    static let headerSize = 16
    static let objectHeaderSize = 16
    /// Objects walked per file at most (a real file has one per variable-length string).
    static let objectBudget = 1 << 24
    /// Damaged-looking collections tolerated when nothing references them ("GCOL" in values).
    static let maxUnreferenced = 16

    /// Walks one collection the way libhdf5 does; nil when every object stays inside it.
    /// Each object walked uses one unit of `budget`; an exhausted budget counts as damage.
    static func check(_ bytes: UnsafeRawBufferPointer, at p: Int, budget: inout Int) -> String? {
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
            budget -= 1
            guard budget >= 0 else { return "more than \(objectBudget) heap objects to check" }
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
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only run of bytes that a tensor's data lives in: either owned heap memory or a window
/// into a memory-mapped file. The storage keeps whatever owns the bytes alive (`owner`), so a
/// tensor that views a mapping can outlive the reader that made it.
///
/// Invariant: `base ..< base + count` stays valid and unchanged for the lifetime of the storage.
public final class ByteStorage: @unchecked Sendable {
    public let base: UnsafeRawPointer
    public let count: Int
    private let owner: AnyObject?
    private let ownsAllocation: Bool
    /// The mapping this storage is a window into, if any (lets the engine drop processed pages).
    public let mapping: MappedFile?

    /// Copies `bytes` into a new owned allocation.
    public convenience init<C: Collection>(copying bytes: C) where C.Element == UInt8 {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        var i = 0
        for b in bytes { p.storeBytes(of: b, toByteOffset: i, as: UInt8.self); i += 1 }
        self.init(takingOwnershipOf: p, count: bytes.count)
    }

    /// Takes ownership of memory allocated with `UnsafeMutableRawPointer.allocate`.
    public init(takingOwnershipOf pointer: UnsafeMutableRawPointer, count: Int) {
        self.base = UnsafeRawPointer(pointer)
        self.count = count
        self.owner = nil
        self.ownsAllocation = true
        self.mapping = nil
    }

    /// Allocates `count` bytes (64-byte aligned) and lets `fill` write them.
    public static func allocate(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows -> ByteStorage {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        do {
            try fill(UnsafeMutableRawBufferPointer(start: p, count: count))
        } catch {
            p.deallocate()
            throw error
        }
        return ByteStorage(takingOwnershipOf: p, count: count)
    }

    /// Whether the system grants an allocation of `count` bytes right now (tried and freed at
    /// once). A declared shape from a file can be any size; callers that size buffers by it ask
    /// first, so a refusal is an error naming the tensor rather than an abort in the runtime.
    public static func canAllocate(_ count: Int) -> Bool {
        var p: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&p, 64, max(count, 1)) == 0, let p else { return false }
        free(p)
        return true
    }

    /// A view of `count` bytes at `offset` inside a mapped file (no copy).
    public init(mapping: MappedFile, offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && offset <= mapping.count - count, "view outside mapping")
        self.base = mapping.base + offset
        self.count = count
        self.owner = mapping
        self.ownsAllocation = false
        self.mapping = mapping
    }

    /// A view into memory owned by `owner` (kept alive by this storage).
    public init(viewing base: UnsafeRawPointer, count: Int, owner: AnyObject) {
        self.base = base
        self.count = count
        self.owner = owner
        self.ownsAllocation = false
        self.mapping = owner as? MappedFile
    }

    deinit {
        if ownsAllocation { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }

    /// The bytes. Valid only while this storage is alive: a temporary such as
    /// `reader.tensor(named:).storage.buffer` is released at once, so prefer `withUnsafeBytes`.
    public var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Runs `body` with the bytes, keeping the storage (and the mapping it views) alive meanwhile.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(buffer) }
    }

    /// Tells the kernel the pages behind this view are no longer needed, so a long streaming pass
    /// over a large mapped checkpoint keeps RSS bounded. Harmless on owned memory (no-op).
    public func releasePages() {
        mapping?.releasePages(from: base, count: count)
    }
}

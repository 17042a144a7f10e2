/// A raw pointer that may cross into `DispatchQueue.concurrentPerform` workers.
///
/// Invariant (the caller's): workers write disjoint ranges, and the memory outlives the parallel
/// call. This is the only place the engine opts out of Sendable checking for memory.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

struct SendableRawPointer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }
}

import Foundation

/// Splits an index range into `threads` contiguous chunks (boundaries multiples of `alignment`)
/// and runs them concurrently; serially when threads ≤ 1 or the range is small. Only for work
/// whose result does not depend on the split (elementwise updates, per-fixed-block partials).
enum ParallelChunks {
    /// Below this many elements a second thread costs more than it saves.
    static let minimumParallelCount = 16_384

    static func run(count: Int, threads: Int, alignment: Int = 16, minimum: Int = minimumParallelCount,
                    _ body: @Sendable (Range<Int>) -> Void) {
        let n = max(1, min(threads, 8))
        if n == 1 || count < minimum {
            if count > 0 { body(0..<count) }
            return
        }
        let per = ((count + n - 1) / n + alignment - 1) / alignment * alignment
        DispatchQueue.concurrentPerform(iterations: n) { c in
            let lo = min(c * per, count), hi = min(lo + per, count)
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// A raw pointer handed to concurrent chunks that write disjoint indices.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

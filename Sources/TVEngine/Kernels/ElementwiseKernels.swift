/// Elementwise loops over unsafe buffers, written so the compiler auto-vectorises them (plain
/// loops beat OpenBLAS level-1 here, see docs/native-stack.md). All operate on `count` elements.
enum ElementwiseKernels {
    /// out = s * out  (s == 1 is skipped, s == 0 clears).
    @inline(__always)
    static func scale<T: ComputeScalar>(_ out: UnsafeMutablePointer<T>, by s: T, count: Int) {
        if s == 1 { return }
        if s == 0 { out.update(repeating: 0, count: count); return }
        for i in 0..<count { out[i] *= s }
    }

    /// out += w * x   (axpy).
    @inline(__always)
    static func axpy<T: ComputeScalar>(_ out: UnsafeMutablePointer<T>, _ w: T, _ x: UnsafePointer<T>, count: Int) {
        if w == 0 { return }
        for i in 0..<count { out[i] += w * x[i] }
    }

    /// x -= b   (turns a decoded finetuned chunk into its task-vector chunk).
    @inline(__always)
    static func subtract<T: ComputeScalar>(_ x: UnsafeMutablePointer<T>, _ b: UnsafePointer<T>, count: Int) {
        for i in 0..<count { x[i] -= b[i] }
    }

    /// Sum of x*y, accumulated in Double.
    @inline(__always)
    static func dot<T: ComputeScalar>(_ x: UnsafePointer<T>, _ y: UnsafePointer<T>, count: Int) -> Double {
        // Accumulate blocks in T, then widen: fast and accurate enough for cosines/norms.
        var total = 0.0
        var i = 0
        while i < count {
            let end = min(i + 256, count)
            var acc: T = 0
            for j in i..<end { acc += x[j] * y[j] }
            total += acc.asDouble
            i = end
        }
        return total
    }

    /// Largest |x| (NaN-ignoring).
    @inline(__always)
    static func maxMagnitude<T: ComputeScalar>(_ x: UnsafePointer<T>, count: Int) -> Double {
        var m: T = 0
        for i in 0..<count { m = Swift.max(m, Swift.abs(x[i])) }
        return m.asDouble
    }

    /// Number of non-zero entries.
    @inline(__always)
    static func nonZeroCount<T: ComputeScalar>(_ x: UnsafePointer<T>, count: Int) -> Int {
        var n = 0
        for i in 0..<count where x[i] != 0 { n += 1 }
        return n
    }
}

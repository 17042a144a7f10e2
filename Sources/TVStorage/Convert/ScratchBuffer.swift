import Foundation

/// Reusable memory for converting tensors one at a time: an output region sized for the largest
/// tensor, plus small staging buffers for conversions that go through Float in chunks. A tensor
/// returned by `convert` views the output region and is valid only until the next call.
final class ScratchBuffer {
    private let output: ByteStorage
    /// Elements per chunk on the two-step path (decode to Float, encode to the target).
    private let chunk = 1 << 16
    private var floats: [Float]
    private var staging: UnsafeMutableRawPointer

    init(capacity: Int) {
        output = ByteStorage.allocate(count: capacity) { _ in }
        floats = [Float](repeating: 0, count: chunk)
        staging = UnsafeMutableRawPointer.allocate(byteCount: chunk * 8, alignment: 64)
    }

    deinit { staging.deallocate() }

    /// `source` converted to `dtype` (both must support arithmetic).
    func convert(_ source: Tensor, to dtype: DType) throws -> Tensor {
        let n = source.elementCount
        let outBytes = dtype.byteCount(elements: n)!
        precondition(outBytes <= output.count && source.dtype.supportsArithmetic && dtype.supportsArithmetic)
        let dst = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(mutating: output.base), count: outBytes)
        let src = source.storage.buffer
        let srcWidth = source.dtype.bitWidth / 8
        let aligned = Int(bitPattern: src.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!) % srcWidth == 0
        let dw = dtype.bitWidth / 8
        if n > 0 && source.dtype == .f32 && aligned {
            // One pass: F32 straight into the target encoding.
            let floats = src.baseAddress!.assumingMemoryBound(to: Float.self)
            Self.inParallel(n) { lo, hi in
                ElementConversion.encode(UnsafeBufferPointer(start: floats + lo, count: hi - lo), as: dtype,
                                         into: UnsafeMutableRawBufferPointer(rebasing: dst[(lo * dw)..<(hi * dw)]))
            }
        } else if n > 0 && dtype == .f32 && aligned {
            let floats = dst.baseAddress!.assumingMemoryBound(to: Float.self)
            Self.inParallel(n) { lo, hi in
                ElementConversion.decode(UnsafeRawBufferPointer(rebasing: src[(lo * srcWidth)..<(hi * srcWidth)]), from: source.dtype,
                                         into: UnsafeMutableBufferPointer(start: floats + lo, count: hi - lo))
            }
        } else if n > 0 {
            convertInChunks(src, from: source.dtype, count: n, to: dtype, into: dst)
        }
        return try Tensor(dtype: dtype, shape: source.shape,
                          storage: ByteStorage(viewing: output.base, count: outBytes, owner: output))
    }

    /// Runs `body` over disjoint element ranges on all cores (large tensors only: below ~1 M
    /// elements the thread hand-off costs more than it saves).
    private static func inParallel(_ n: Int, _ body: (Int, Int) -> Void) {
        let parts = n >= 1 << 20 ? max(1, ProcessInfo.processInfo.activeProcessorCount) : 1
        if parts == 1 { return body(0, n) }
        let step = (n + parts - 1) / parts
        // The ranges are disjoint and concurrentPerform returns only when all are done, so sharing
        // the (non-Sendable) closure and the buffers it captures is safe.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { i in
                let lo = i * step
                if lo < n { shared.value(lo, min(n, lo + step)) }
            }
        }
    }

    /// Copies each chunk to aligned staging memory, decodes it to Float, encodes it as `dtype`.
    private func convertInChunks(_ src: UnsafeRawBufferPointer, from sdt: DType, count n: Int, to ddt: DType,
                                 into dst: UnsafeMutableRawBufferPointer) {
        let sw = sdt.bitWidth / 8, dw = ddt.bitWidth / 8
        var i = 0
        while i < n {
            let k = min(chunk, n - i)
            staging.copyMemory(from: src.baseAddress! + i * sw, byteCount: k * sw)
            floats.withUnsafeMutableBufferPointer { f in
                let fk = UnsafeMutableBufferPointer(rebasing: f[0..<k])
                ElementConversion.decode(UnsafeRawBufferPointer(start: staging, count: k * sw), from: sdt, into: fk)
                ElementConversion.encode(UnsafeBufferPointer(fk), as: ddt,
                                         into: UnsafeMutableRawBufferPointer(rebasing: dst[(i * dw)..<((i + k) * dw)]))
            }
            i += k
        }
    }
}

private struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

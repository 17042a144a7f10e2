import Foundation

/// Data-parallel forward/backward over two fixed halves of a batch: rows [0, B/2) go through
/// `model`, rows [B/2, B) through `replica` (same parameter buffer, own gradients and scratch),
/// concurrently. After `backward`, `model.gradients` holds the sum model + replica, added in that
/// order, so the result does not depend on scheduling.
struct BatchHalves: @unchecked Sendable {
    let model: MLPDenoiser
    let replica: MLPDenoiser
    let batch: Int
    var half: Int { batch / 2 }

    func forward(x: UnsafePointer<Float>, t: [Int], out: UnsafeMutablePointer<Float>) {
        let D = model.dataDimension
        nonisolated(unsafe) let (xs, outs) = (x, out)
        let first = Array(t[..<half]), second = Array(t[half...])
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            if k == 0 {
                model.forward(x: xs, t: first, out: outs)
            } else {
                replica.forward(x: xs + half * D, t: second, out: outs + half * D)
            }
        }
    }

    /// `dOut` is dL/dout for the whole batch (normalised over the whole batch).
    func backward(dOut: UnsafePointer<Float>) {
        let D = model.dataDimension
        nonisolated(unsafe) let dys = dOut
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            if k == 0 { model.backward(dOut: dys) } else { replica.backward(dOut: dys + half * D) }
        }
        let sum = SendablePointer(model.gradients.pointer), other = SendablePointer(replica.gradients.pointer)
        ParallelChunks.run(count: model.gradients.count, threads: 2) { range in
            let a = sum.pointer, b = other.pointer
            for i in range { a[i] += b[i] }
        }
    }
}

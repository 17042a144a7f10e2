import Foundation

/// Data-parallel forward/backward over two fixed halves of a batch: rows [0, B/2) go through
/// `model`, rows [B/2, B) through `replica` (same parameter buffer, own gradients and scratch),
/// concurrently. The full gradient is model.gradients + replica.gradients (added in that order, so
/// the result does not depend on scheduling).
struct BatchHalves: @unchecked Sendable {
    let model: any TrainableDenoiser
    let replica: any TrainableDenoiser
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

    /// `dOut` is dL/dout for the whole batch (normalised over the whole batch). Leaves the halves'
    /// gradients in `model.gradients` and `replica.gradients`; the caller adds them
    /// (`gradientNorm(_:adding:threads:)` does it in the norm's pass).
    func backward(dOut: UnsafePointer<Float>) {
        let D = model.dataDimension
        nonisolated(unsafe) let dys = dOut
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            if k == 0 { model.backward(dOut: dys) } else { replica.backward(dOut: dys + half * D) }
        }
    }
}

import Foundation
import TVStorage

/// A kernel that computes a tensor block by block straight from the operands' stored bytes
/// (`FusedLinear`, `FusedSparse`): the runner hands it raw blocks, it writes each block's result
/// as `outputDType` values. `run` and `write` are shared.
protocol BlockKernel: Sendable {
    var outputDType: DType { get }
    /// Computes `block` into `out` (room for `block.count` values of `outputDType`).
    func combine(_ block: RawBlock, into out: UnsafeMutableRawPointer)
}

extension BlockKernel {
    var outWidth: Int { outputDType.bitWidth / 8 }

    /// Computes the tensor into `out` (laid out as `outputDType` values).
    func run(_ operands: TensorOperands, runner: ChunkRunner, into out: UnsafeMutableRawPointer) {
        let destination = SendableRawPointer(out)
        let width = outWidth
        runner.forEachRawBlock(operands) { block in
            combine(block, into: destination.pointer + block.offset * width)
            runner.outputCheck.scan(destination.pointer + block.offset * width, count: block.count, dtype: outputDType, firstElement: block.offset)
        }
    }

    /// Computes the tensor block by block and writes each block's bytes straight to their place
    /// in `writer`'s file from the worker that computed them: no tensor-sized buffer, and the
    /// copies into the file are spread over the workers. The first write error stops the rest.
    func write(_ operands: TensorOperands, named name: String, runner: ChunkRunner, to writer: any RangedCheckpointWriter) throws {
        let failure = FirstError()
        let width = outWidth
        runner.forEachRawBlock(operands) { block in
            guard !failure.isSet else { return }
            combine(block, into: block.scratch)
            runner.outputCheck.scan(block.scratch, count: block.count, dtype: outputDType, firstElement: block.offset)
            do {
                try writer.write(UnsafeRawBufferPointer(start: block.scratch, count: block.count * width),
                                 ofTensor: name, at: block.offset * width)
            } catch {
                failure.record(error)
            }
        }
        try failure.rethrow()
        try writer.completeTensor(name)
    }
}

/// The first error thrown by any of several concurrent workers.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?

    var isSet: Bool { lock.withLock { error != nil } }

    func record(_ e: any Error) { lock.withLock { if error == nil { error = e } } }

    func rethrow() throws { if let e = lock.withLock({ error }) { throw e } }
}

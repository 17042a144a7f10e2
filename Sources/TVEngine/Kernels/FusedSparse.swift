import CKernels
import Foundation
import TVStorage

/// The fast path of TIES, DARE and breadcrumbs in F32 precision: `tv_sparse_combine` reads each
/// block's stored bytes, forms every tau_i in registers, applies its mask (magnitude thresholds or
/// the counter-based DARE draw), elects signs / sums and encodes, in one pass. Its arithmetic is
/// `SparseDeltaCombiner`'s Float loop operation for operation (same order, no fused multiply-add),
/// so outputs are bit-identical to the portable chunked path (tests check both against numpy).
struct FusedSparse: BlockKernel {
    /// `TVTOOL_FUSED=0` turns the fused kernels off, as for `FusedLinear`.
    static let available = tv_sparse_available() != 0 && ProcessInfo.processInfo.environment["TVTOOL_FUSED"] != "0"
    /// The kernel keeps (models + 3) strips on its stack.
    static let maxModels = 29

    let masks: [tv_sparse_mask]
    let weights: [Float]
    let consensus: Int32
    let normalize: Int32
    let lambda: Float
    let sumScale: Float
    let operandCodes: OperandCodes
    let outCode: Int32
    let outputDType: DType

    init?(_ c: SparseDeltaCombiner, operands: TensorOperands, outputDType: DType) {
        guard Self.available, operands.models.count <= Self.maxModels, c.masks.count == operands.models.count,
              let codes = OperandCodes(operands), let out = FusedLinear.code(outputDType) else { return nil }
        masks = c.masks.map(Self.kernelMask)
        weights = c.weights.map { Float($0) }
        // The chunked loop's scalars, converted the same way (SparseDeltaCombiner.run).
        lambda = Float(c.lambda)
        let scale: Float = c.normalize ? Float(1 / max(c.weights.reduce(0, +), .leastNonzeroMagnitude)) : 1
        sumScale = lambda * scale
        consensus = c.consensus == .signElection ? Int32(TV_CONSENSUS_SIGN) : Int32(TV_CONSENSUS_SUM)
        normalize = c.normalize ? 1 : 0
        operandCodes = codes
        outCode = out
        self.outputDType = outputDType
    }

    private static func kernelMask(_ m: SparseDeltaCombiner.Mask) -> tv_sparse_mask {
        var k = tv_sparse_mask()
        switch m {
        case .none:
            k.kind = Int32(TV_MASK_NONE)
        case let .magnitude(low, high):
            k.kind = Int32(TV_MASK_MAGNITUDE)
            k.low = low
            k.high = high ?? 0xFFFF_FFFF
        case let .random(key, density):
            if density > 0 {
                k.kind = Int32(TV_MASK_RANDOM)
                k.key = key
                k.density = Float(density)
                k.rescale = Float(1 / density)
            } else {
                // The chunked loop zeroes the whole task vector: a magnitude mask that keeps nothing.
                k.kind = Int32(TV_MASK_MAGNITUDE)
                k.low = MagnitudeSelector.keepNothing
                k.high = 0xFFFF_FFFF
            }
        }
        return k
    }

    func combine(_ block: RawBlock, into out: UnsafeMutableRawPointer) {
        block.models.withUnsafeBufferPointer { models in
            tv_sparse_combine(block.base, operandCodes.base, models.baseAddress, operandCodes.models, operandCodes.isTaskVector,
                              masks, weights, Int32(weights.count), consensus, normalize, lambda, sumScale,
                              out, outCode, block.offset, block.count)
        }
    }
}

/// The kernels' element codes of one tensor's operands (TV_ZERO for a missing model).
struct OperandCodes: Sendable {
    let base: Int32
    let models: [Int32]
    let isTaskVector: [UInt8]

    init?(_ operands: TensorOperands) {
        guard let b = FusedLinear.code(operands.base.dtype) else { return nil }
        var codes: [Int32] = []
        for model in operands.models {
            if let model {
                guard let c = FusedLinear.code(model.dtype) else { return nil }
                codes.append(c)
            } else {
                codes.append(Int32(TV_ZERO))
            }
        }
        base = b
        models = codes
        isTaskVector = operands.modelIsTaskVector.map { $0 ? 1 : 0 }
    }
}

/// MagnitudeSelector's two histogram passes on `tv_magnitude_histograms`: same counts as feeding
/// the decoded Float chunks (the bits of Float |tau|), without the decode into scratch. (The usual
/// fused path is FusedSelection; this one serves `trim=global` and heavily tied tensors.)
enum FusedMagnitude {
    /// Feeds one pass over `operands` into `selector`; false when the kernel cannot (dtype, CPU),
    /// and the caller feeds decoded chunks instead.
    static func feed(_ selector: MagnitudeSelector, fine: Bool, operands: TensorOperands, runner: ChunkRunner) -> Bool {
        guard FusedSparse.available, selector.segments >= runner.workers, let codes = OperandCodes(operands) else { return false }
        let targets = selector.fineTargets()
        runner.forEachRawBlock(operands) { block in
            let coarse = fine ? [] : selector.coarseHistograms(segment: block.segment)
            let fineHistograms = fine ? selector.fineHistograms(segment: block.segment) : []
            block.models.withUnsafeBufferPointer { models in
                coarse.withUnsafeBufferPointer { c in
                    fineHistograms.withUnsafeBufferPointer { f in
                        tv_magnitude_histograms(block.base, codes.base, models.baseAddress, codes.models, codes.isTaskVector,
                                                Int32(codes.models.count), block.count,
                                                fine ? nil : c.baseAddress, targets, Int32(selector.maxRanks),
                                                fine ? f.baseAddress : nil)
                    }
                }
            }
        }
        return true
    }
}

import CKernels
import Foundation
import TVStorage

/// The fast path of a linear plan (task arithmetic, DeMe's weighted merge, soups) in F32 precision:
/// the C kernel `tv_linear_combine` converts each operand's F16/BF16/F32 block in registers,
/// accumulates in DeMe's torch order and encodes straight into the output, in one pass. Its
/// arithmetic is `LinearCombiner`'s, operation for operation, so outputs are bit-identical to the
/// chunked path (a test checks this); it only saves the decode/encode passes through scratch.
struct FusedLinear: BlockKernel {
    /// `TVTOOL_FUSED=0` turns the fast path off (for benchmarking and cross-checking the two paths).
    static let available = tv_linear_available() != 0 && ProcessInfo.processInfo.environment["TVTOOL_FUSED"] != "0"

    let baseScale: Float
    let coefficients: [Float]
    /// A missing model has the code TV_ZERO: it contributes nothing, as in the chunked path.
    let operandCodes: OperandCodes
    let outCode: Int32
    let outputDType: DType

    /// nil when the kernel cannot run this tensor (unsupported dtype, no AVX2).
    init?(baseScale: Double, coefficients: [Double], operands: TensorOperands, outputDType: DType) {
        guard Self.available, coefficients.count == operands.models.count,
              let codes = OperandCodes(operands), let out = Self.code(outputDType) else { return nil }
        self.baseScale = Float(baseScale)
        self.coefficients = coefficients.map { Float($0) }
        self.operandCodes = codes
        self.outCode = out
        self.outputDType = outputDType
    }

    /// The kernels' element code of `dtype` (nil: not handled by the fused kernels).
    static func code(_ dtype: DType) -> Int32? {
        switch dtype {
        case .f32: Int32(TV_F32)
        case .f16: Int32(TV_F16)
        case .bf16: Int32(TV_BF16)
        default: nil
        }
    }

    func combine(_ block: RawBlock, into out: UnsafeMutableRawPointer) {
        // A missing model has a nil pointer and the code TV_ZERO (skipped by the kernel).
        block.models.withUnsafeBufferPointer { models in
            tv_linear_combine(block.base, operandCodes.base, baseScale, models.baseAddress, operandCodes.models, coefficients,
                              operandCodes.isTaskVector, Int32(coefficients.count), out, outCode, block.count)
        }
    }
}

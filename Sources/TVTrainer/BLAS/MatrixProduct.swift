import CKernels
import COpenBLAS
import Foundation

/// The row-major products of the linear layers: CKernels' register-tiled FMA kernel
/// (tv_mlp_gemm) where the CPU has AVX2 and FMA, OpenBLAS's sgemm elsewhere.
///
/// The tiled kernel runs on the calling thread (plus, when one waits, a thread lent by a worker
/// with no job left: `ThreadLending`, same bits) and, on the MLP's sizes, beats OpenBLAS on
/// both kernel sets measured here (scripts/bench/train.sh; docs/trainer.md, "Own GEMM kernel"), so
/// the trainer's speed no longer depends on the kernels OpenBLAS picks for a CPU. Each element is
/// one multiply-add chain over k in order within each K block of `kBlock` (longer products add
/// each block's sums into C in turn), so a row's result does not depend on the batch size,
/// the row's position in it, the vector width (AVX2 or AVX-512) or the thread: splitting a
/// forward pass into halves gives the same bits.
/// `TVTOOL_GEMM=openblas` in the environment selects OpenBLAS (benchmarks compare the two).
public enum MatrixProduct {
    /// The tiled kernel's K block (TV_MLP_GEMM_KC).
    public static let kBlock = Int(TV_MLP_GEMM_KC)

    public static let tiled: Bool = {
        guard tv_mlp_gemm_available() != 0 else { return false }
        return ProcessInfo.processInfo.environment["TVTOOL_GEMM"]?.lowercased() != "openblas"
    }()

    /// C[m, n] = (accumulate ? C : 0) + bias (broadcast over rows, when given) + op(A) op(B), with
    /// op(A) = A [m, k] (row stride lda) or, with `transposeA`, the transpose of A [k, m]; op(B)
    /// likewise [k, n] or, with `transposeB`, the transpose of B [n, k].
    @inline(__always)
    static func multiply(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                         a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                         bias: UnsafePointer<Float>?, accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if tiled {
            tv_mlp_gemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, a, lda, b, ldb, bias, accumulate ? 1 : 0, c, ldc)
            return
        }
        // OpenBLAS: C (+ bias) first, then beta 1 adds the product.
        if let bias {
            for r in 0..<m {
                let row = c + r * ldc
                if accumulate { for j in 0..<n { row[j] += bias[j] } } else { row.update(from: bias, count: n) }
            }
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb),
                    bias == nil && !accumulate ? 0 : 1, c, Int32(ldc))
    }
}

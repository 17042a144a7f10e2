#ifndef TV_SPARSE_COMBINE_H
#define TV_SPARSE_COMBINE_H
#include <stddef.h>
#include <stdint.h>

// The fused passes of TIES, DARE and breadcrumbs (TVEngine's SparseDeltaCombiner and
// MagnitudeSelector): they read each operand's F16/BF16/F32 bytes once per pass, convert in
// registers and never decode into scratch. Element types are linear_combine.h's TV_F32/F16/BF16,
// and TV_ZERO for a missing model (a zero task vector; its pointer may be NULL).

/// 1 when these kernels can run (x86-64 with AVX2 + F16C), checked once at run time.
int tv_sparse_available(void);

enum { TV_MASK_NONE = 0, TV_MASK_MAGNITUDE = 1, TV_MASK_RANDOM = 2 };
enum { TV_CONSENSUS_SUM = 0, TV_CONSENSUS_SIGN = 1 };

/// How one model's task vector is sparsified (see SparseDeltaCombiner.Mask).
///   TV_MASK_MAGNITUDE: keep tau when low <= bits(|tau|) < high, bits = the float's bit pattern
///     (0xFFFFFFFF as low keeps nothing, as high means no upper bound).
///   TV_MASK_RANDOM: keep tau * rescale when u < density, u = the counter-based uniform of
///     (key, element index) (TVEngine's CounterRandom); density <= 0 keeps nothing.
typedef struct {
    int kind;
    uint32_t low, high;
    uint64_t key;
    float density, rescale;
} tv_sparse_mask;

/// out[j] for j < n (element `first_index + j` of the tensor), exactly as SparseDeltaCombiner's
/// Float loop: tau_i = model_i (task vector) or model_i - base in float, masked; then
///   TV_CONSENSUS_SUM:  base + sum_scale * (0 + w_0 tau_0 + w_1 tau_1 + ...)  (models with w_i == 0
///                      skipped; sum_scale = lambda * (1 / sum w) or lambda, rounded to float)
///   TV_CONSENSUS_SIGN: s = sign(sum w_i tau_i), ties (0 or NaN) by sign(#positive - #negative);
///                      merged = sum of the agreeing w_i tau_i, divided by the sum of their w_i
///                      when `normalize` (0 when none agree); base + lambda * merged
/// in that operation order, no fused multiply-add, rounded once to out_dtype (nearest even).
/// Precondition: tv_sparse_available(); base_dtype is not TV_ZERO.
void tv_sparse_combine(const void *base, int base_dtype,
                       const void *const *models, const int *model_dtypes, const uint8_t *is_task_vector,
                       const tv_sparse_mask *masks, const float *weights, int model_count,
                       int consensus, int normalize, float lambda, float sum_scale,
                       void *out, int out_dtype, size_t first_index, size_t n);

/// Histograms of bits(|tau_i|) over n elements for every model i (MagnitudeSelector's passes):
/// with coarse[i] not NULL, coarse[i][bits >> 16] += 1; for each r < ranks with
/// fine_bins[i * ranks + r] >= 0, fine[i * ranks + r][bits & 0xFFFF] += 1 for the values whose
/// bits >> 16 equal that bin. A missing model counts n zeros.
void tv_magnitude_histograms(const void *base, int base_dtype,
                             const void *const *models, const int *model_dtypes, const uint8_t *is_task_vector,
                             int model_count, size_t n,
                             uint32_t *const *coarse, const int32_t *fine_bins, int ranks, uint32_t *const *fine);

/// Bins of the one-pass top-k selection (magnitude_select.c): bits(|tau|) >> TV_SELECT_SHIFT, 2048
/// bins over every non-negative float bit pattern (NaN included).
enum { TV_SELECT_SHIFT = 20, TV_SELECT_BINS = 2048, TV_SELECT_COPIES = 4 };

/// Counts bits(|tau_i|) >> TV_SELECT_SHIFT of n elements for every model i into hist[i], which
/// holds TV_SELECT_COPIES interleaved histograms of TV_SELECT_BINS bins each (consecutive values
/// go to different copies, so a run of one bin does not wait on one counter; the caller sums
/// them). A missing model (TV_ZERO) counts n zeros.
void tv_magnitude_coarse(const void *base, int base_dtype,
                         const void *const *models, const int *model_dtypes, const uint8_t *is_task_vector,
                         int model_count, size_t n, uint32_t *const *hist);

/// For every model i and r < ranks with bins[i * ranks + r] >= 0: appends bits(|tau_i|) of the
/// values whose bits >> TV_SELECT_SHIFT equal that bin at dst[i * ranks + r], in element order,
/// and advances dst[i * ranks + r] past them; never beyond end[i * ranks + r] (values past it are
/// dropped). Writes up to 8 values past the end: each range needs 8 values of slack after it.
void tv_magnitude_collect(const void *base, int base_dtype,
                          const void *const *models, const int *model_dtypes, const uint8_t *is_task_vector,
                          int model_count, size_t n, const int32_t *bins, int ranks,
                          uint32_t **dst, uint32_t *const *end);

/// The k-th smallest of a[0..<n] (0-based, k < n), exact; permutes a. Portable C.
uint32_t tv_select_u32(uint32_t *a, size_t n, size_t k);

#endif

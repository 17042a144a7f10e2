#include <hdf5.h>
#include <string.h>

// Swift cannot import HDF5's macro constants (they expand to `(H5open(), X_g)` or call
// H5check_version), so expose them as inline accessors. See ../shared/docs/native-stack.md.
static inline hid_t tv_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t tv_h5s_all(void) { return H5S_ALL; }
static inline unsigned tv_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned tv_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned tv_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline hid_t tv_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t tv_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t tv_h5p_link_create(void) { return H5P_LINK_CREATE; }

static inline hid_t tv_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t tv_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t tv_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t tv_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t tv_native_int16(void) { return H5T_NATIVE_INT16; }
static inline hid_t tv_native_uint16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t tv_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t tv_native_uint32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t tv_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t tv_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t tv_native_hbool(void) { return H5T_NATIVE_HBOOL; }
static inline hid_t tv_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t tv_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t tv_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t tv_std_u16le(void) { return H5T_STD_U16LE; }
static inline hid_t tv_c_s1(void) { return H5T_C_S1; }
static inline size_t tv_h5t_variable(void) { return H5T_VARIABLE; }
static inline hsize_t tv_h5s_unlimited(void) { return H5S_UNLIMITED; }
static inline haddr_t tv_haddr_undef(void) { return HADDR_UNDEF; }

// Version-stable object visiting (H5Ovisit2 in 1.10, H5Ovisit3 in 1.12+). The info struct
// changed between versions, so the Swift side gets a callback that sees only the object's name
// (relative to the start object, "." for itself) and kind (1 group, 2 dataset, 0 other).
// H5Ovisit follows hard links only and reports each object once, so link cycles cannot loop.
typedef int (*tv_h5_visit_fn)(const char *name, int kind, void *data);
typedef struct { tv_h5_visit_fn fn; void *data; } tv_h5_visit_ctx;

#if H5_VERSION_GE(1, 12, 0)
static inline herr_t tv_h5_visit_trampoline(hid_t obj, const char *name, const H5O_info2_t *info, void *op) {
#else
static inline herr_t tv_h5_visit_trampoline(hid_t obj, const char *name, const H5O_info_t *info, void *op) {
#endif
    (void)obj;
    tv_h5_visit_ctx *ctx = (tv_h5_visit_ctx *)op;
    int kind = info->type == H5O_TYPE_GROUP ? 1 : (info->type == H5O_TYPE_DATASET ? 2 : 0);
    return (herr_t)ctx->fn(name, kind, ctx->data);
}

static inline herr_t tv_h5_visit(hid_t obj, tv_h5_visit_fn fn, void *data) {
    tv_h5_visit_ctx ctx = { fn, data };
#if H5_VERSION_GE(1, 12, 0)
    return H5Ovisit3(obj, H5_INDEX_NAME, H5_ITER_INC, tv_h5_visit_trampoline, &ctx, H5O_INFO_BASIC);
#else
    return H5Ovisit2(obj, H5_INDEX_NAME, H5_ITER_INC, tv_h5_visit_trampoline, &ctx, H5O_INFO_BASIC);
#endif
}

// Number of attributes on an object (negative on error); the info struct is version-dependent.
static inline long long tv_h5_attribute_count(hid_t obj) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info3(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
#else
    H5O_info_t info;
    if (H5Oget_info2(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
#endif
    return (long long)info.num_attrs;
}

// The most specific message on the default error stack (the innermost entry), copied into buf,
// then the stack is cleared. Used to turn a failed call into one readable line.
static inline herr_t tv_h5_error_walk(unsigned n, const H5E_error2_t *err, void *data) {
    char *buf = ((char **)data)[0];
    size_t cap = (size_t)((char **)data)[1];
    if (n == 0 && err->desc != NULL && cap > 0) {
        strncpy(buf, err->desc, cap - 1);
        buf[cap - 1] = 0;
    }
    return 0;
}

static inline void tv_h5_last_error(char *buf, size_t cap) {
    if (cap == 0) return;
    buf[0] = 0;
    void *data[2] = { buf, (void *)cap };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, tv_h5_error_walk, data);
    H5Eclear2(H5E_DEFAULT);
}

static inline H5F_libver_t tv_h5f_libver_latest(void) { return H5F_LIBVER_LATEST; }
static inline hid_t tv_h5p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t tv_h5p_dataset_xfer(void) { return H5P_DATASET_XFER; }
static inline hid_t tv_std_i8le(void) { return H5T_STD_I8LE; }
static inline hid_t tv_std_i16le(void) { return H5T_STD_I16LE; }
static inline hid_t tv_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t tv_std_u32le(void) { return H5T_STD_U32LE; }
static inline hid_t tv_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t tv_std_u64le(void) { return H5T_STD_U64LE; }

// Silence libhdf5's own stderr error stack; tvtool reports its own one-line errors.
static inline void tv_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

#include "vlen_probe.h"
#include "byte_search.h"

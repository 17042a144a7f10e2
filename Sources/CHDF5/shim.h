#include <hdf5.h>

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

// Version-stable object visiting (H5Ovisit2 in 1.10, H5Ovisit3 in 1.12+).
static inline herr_t tv_h5o_visit(hid_t obj, H5_index_t idx, H5_iter_order_t order,
                                  H5O_iterate_t op, void *data) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Ovisit3(obj, idx, order, op, data, H5O_INFO_BASIC);
#else
    return H5Ovisit2(obj, idx, order, op, data, H5O_INFO_BASIC);
#endif
}

// Silence libhdf5's own stderr error stack; tvtool reports its own one-line errors.
static inline void tv_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

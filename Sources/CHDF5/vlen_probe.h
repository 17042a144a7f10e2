// A probe for the reads that damaged files turn into a crash inside libhdf5 1.10. It opens and
// describes every object (datatype, dataspace, layout messages: a damaged datatype message
// segfaults in H5T_copy while H5Oopen decodes it, a fuzz find) and reads every attribute, the
// way HDF5FileStructure does, in a forked child; the parent only repeats what survived.
// First among them, variable-length
// string attributes, whose values live in global heap collections. H5HG_read indexes the
// collection's object table with the index stored in the attribute without a bounds check, so
// a corrupted index reads far outside the table (segfault). The global-heap pre-check cannot see
// those indices (they sit inside attribute messages), so tvtool reads every such attribute once
// in a forked child first: a crash or a hang there becomes an error in the parent.
// A damaged *length* (a string of 2^31 bytes where the heap object holds 10) does not crash:
// libhdf5 allocates and copies gigabytes for it (fuzz finding: ~1 min and 4 GB per read). The
// child therefore runs with its address space capped at what it has plus 1 GiB; a read that
// fails there (no real string attribute needs that much) makes the file damaged too.
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct { size_t max_values; int failed; } tv_probe_ctx;

/// Caps the calling process's address space at its current size plus `extra` bytes (Linux:
/// /proc/self/statm; elsewhere no cap).
static inline void tv_probe_limit_memory(size_t extra) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f == NULL) return;
    if (fscanf(f, "%lu", &pages) != 1) pages = 0;
    fclose(f);
    if (pages == 0) return;
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (rlim_t)extra;
    setrlimit(RLIMIT_AS, &rl);
}

/// What the reader asks about a dataset's datatype (HDF5TypeMapping), recursively for members.
static inline void tv_probe_type(hid_t type, int depth) {
    if (type < 0 || depth > 8) return;
    H5T_class_t cls = H5Tget_class(type);
    (void)H5Tget_size(type); (void)H5Tget_order(type);
    if (cls == H5T_FLOAT) {
        size_t spos, epos, esize, mpos, msize;
        (void)H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize);
        (void)H5Tget_ebias(type);
    }
    if (cls == H5T_COMPOUND || cls == H5T_ENUM) {
        int n = H5Tget_nmembers(type);
        for (int i = 0; i < n && i < 4096; i++) {
            char *name = H5Tget_member_name(type, (unsigned)i);
            if (name) H5free_memory(name);
            if (cls == H5T_COMPOUND) {
                (void)H5Tget_member_offset(type, (unsigned)i);
                hid_t m = H5Tget_member_type(type, (unsigned)i);
                tv_probe_type(m, depth + 1);
                if (m >= 0) H5Tclose(m);
            } else {
                long long value = 0;
                if (H5Tget_size(type) <= sizeof value) (void)H5Tget_member_value(type, (unsigned)i, &value);
            }
        }
    }
    if (cls == H5T_ENUM || cls == H5T_VLEN || cls == H5T_ARRAY) {
        hid_t base = H5Tget_super(type);
        tv_probe_type(base, depth + 1);
        if (base >= 0) H5Tclose(base);
    }
}

/// What the reader asks about a dataset (HDF5FileStructure.describeDataset).
static inline void tv_probe_dataset(hid_t dset) {
    hid_t type = H5Dget_type(dset), space = H5Dget_space(dset), dcpl = H5Dget_create_plist(dset);
    tv_probe_type(type, 0);
    if (space >= 0) {
        int rank = H5Sget_simple_extent_ndims(space);
        hsize_t dims[H5S_MAX_RANK];
        if (rank >= 0 && rank <= H5S_MAX_RANK) (void)H5Sget_simple_extent_dims(space, dims, NULL);
    }
    if (dcpl >= 0) { (void)H5Pget_layout(dcpl); (void)H5Pget_nfilters(dcpl); (void)H5Pget_external_count(dcpl); }
    (void)H5Dget_offset(dset);
    (void)H5Dget_storage_size(dset);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (dcpl >= 0) H5Pclose(dcpl);
}

/// Reads a fixed-size attribute as stored (no conversion) when it is small enough.
static inline void tv_probe_fixed_attribute(hid_t attr, hid_t type) {
    if (H5Tdetect_class(type, H5T_VLEN) != 0 || H5Tis_variable_str(type) > 0) return;
    hsize_t bytes = H5Aget_storage_size(attr);
    if (bytes == 0 || bytes > ((hsize_t)64 << 20)) return;
    void *buf = malloc((size_t)bytes + 64);
    if (buf) { (void)H5Aread(attr, type, buf); free(buf); }
}

/// Returns the number of variable-length string attributes whose read failed.
static inline int tv_probe_attributes(hid_t obj, size_t max_values) {
    int failed = 0;
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info3(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return 0;
#else
    H5O_info_t info;
    if (H5Oget_info2(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return 0;
#endif
    for (hsize_t i = 0; i < info.num_attrs; i++) {
        hid_t attr = H5Aopen_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT);
        if (attr < 0) continue;
        hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
        if (type >= 0) { tv_probe_type(type, 0); tv_probe_fixed_attribute(attr, type); }
        if (type >= 0 && space >= 0 && H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) > 0) {
            hssize_t n = H5Sget_simple_extent_npoints(space);
            if (n >= 0 && (size_t)n <= max_values) {
                hid_t mem = H5Tcopy(H5T_C_S1);
                H5Tset_cset(mem, H5Tget_cset(type));
                H5Tset_size(mem, H5T_VARIABLE);
                char **ptrs = (char **)calloc((size_t)(n > 0 ? n : 1), sizeof(char *));
                if (ptrs && H5Aread(attr, mem, ptrs) >= 0) {
                    for (hssize_t k = 0; k < n; k++) if (ptrs[k]) H5free_memory(ptrs[k]);
                } else {
                    failed += 1;
                }
                free(ptrs);
                H5Tclose(mem);
            }
        }
        if (type >= 0) H5Tclose(type);
        if (space >= 0) H5Sclose(space);
        H5Aclose(attr);
    }
    return failed;
}

#if H5_VERSION_GE(1, 12, 0)
static inline herr_t tv_probe_visit(hid_t root, const char *name, const H5O_info2_t *info, void *op) {
#else
static inline herr_t tv_probe_visit(hid_t root, const char *name, const H5O_info_t *info, void *op) {
#endif
    (void)info;
    hid_t obj = H5Oopen(root, name, H5P_DEFAULT);
    if (obj >= 0) {
        if (H5Iget_type(obj) == H5I_DATASET) tv_probe_dataset(obj);
        tv_probe_ctx *ctx = (tv_probe_ctx *)op;
        ctx->failed += tv_probe_attributes(obj, ctx->max_values);
        H5Oclose(obj);
    }
    return 0;
}

/// 0: every object was described and every variable-length string attribute read; a signal
/// number: the probe died of it;
/// -1: it did not finish within timeout_ms (killed); -2: no probe (fork failed); -3: a read
/// failed within the probe's memory cap (a damaged length).
static inline int tv_h5_probe_structure(const char *path, size_t max_values, int timeout_ms) {
    pid_t pid = fork();
    if (pid < 0) return -2;
    if (pid == 0) {
        // The child: default signal handling, no output, its own open of the file, _exit.
        // (The Swift runtime's crash reporter is uninstalled too: the parent reports the crash.)
        int defaults[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
        for (size_t k = 0; k < sizeof defaults / sizeof defaults[0]; k++) signal(defaults[k], SIG_DFL);
        int quiet = open("/dev/null", O_WRONLY);
        if (quiet >= 0) { dup2(quiet, 1); dup2(quiet, 2); }
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        tv_probe_limit_memory((size_t)1 << 30);
        int failed = 0;
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f >= 0) {
            tv_probe_ctx ctx = { max_values, 0 };
#if H5_VERSION_GE(1, 12, 0)
            H5Ovisit3(f, H5_INDEX_NAME, H5_ITER_INC, tv_probe_visit, &ctx, H5O_INFO_BASIC);
#else
            H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_INC, tv_probe_visit, &ctx, H5O_INFO_BASIC);
#endif
            failed = ctx.failed;
        }
        _exit(failed > 0 ? 3 : 0);
    }
    int status = 0;
    struct timespec nap = { 0, 1000000 };
    for (long waited = 0;; waited += 1) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0) return 0;
        if (waited >= timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        nanosleep(&nap, NULL);
    }
    if (WIFSIGNALED(status)) return WTERMSIG(status);
    return WIFEXITED(status) && WEXITSTATUS(status) == 3 ? -3 : 0;
}

#include <cblas.h>

// LAPACK symbols live in libopenblas; Debian ships no lapacke.h with it, so declare the few we use.
// Symmetric eigendecomposition (used for covariance square roots in the Frechet distance).
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork, int *info);
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
            double *w, double *work, const int *lwork, int *info);
// Thin SVD by divide and conquer (the TSV / Iso merge methods in TVEngine).
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,
             double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork,
             int *iwork, int *info);

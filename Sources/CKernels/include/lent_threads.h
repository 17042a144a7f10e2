#ifndef TV_LENT_THREADS_H
#define TV_LENT_THREADS_H
#include <stdint.h>

/// A thread with nothing left to do (a finetune worker after the last job was taken) lends
/// itself to the threads still working: until *stop is non-zero it waits for, and runs, halves
/// of their matrix products (tv_mlp_gemm splits its columns with a waiting lent thread) and of
/// their AdamW passes. Both split only whole output elements, each computed exactly as before,
/// so results keep their bits. Returns at once when all slots (8) are taken.
void tv_lend_thread(const int32_t *stop);

/// Sets *stop (atomically, so lent threads see it and return).
void tv_lend_stop(int32_t *stop);

/// Lent threads waiting for work now (a hint), and tasks lent threads have run so far (for tests).
int tv_lent_threads_waiting(void);
long tv_lent_tasks_run(void);

#endif

// The kernels' side of tv_lend_thread (lent_threads.c): post one task to a waiting lent thread,
// do the other part meanwhile, then join.
#ifndef TV_LENT_THREADS_INTERNAL_H
#define TV_LENT_THREADS_INTERNAL_H

typedef struct tv_lent_slot tv_lent_slot;

/// Hands task(ctx) to a waiting lent thread; NULL (and nothing posted) when none waits.
tv_lent_slot *tv_lent_post(void (*task)(void *ctx), void *ctx);

/// Waits for the posted task, or runs it on the calling thread when the lent thread has not
/// started it yet (a descheduled lent thread never stalls the caller for a time slice).
void tv_lent_join(tv_lent_slot *slot);

#endif

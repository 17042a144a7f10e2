// Lent threads (lent_threads.h): single-task mailboxes between a working thread and an idle one.
// A slot's state moves absent → waiting → claimed (the poster writes the task) → posted →
// running (the lent thread took it) → done → waiting; or posted → waiting when the poster takes
// its task back because the lent thread had not started it.
#include "lent_threads.h"
#include "lent_threads_internal.h"

#include <sched.h>
#include <stdatomic.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

enum { ABSENT, WAITING, CLAIMED, POSTED, RUNNING, DONE };
enum { SLOTS = 8 };

struct tv_lent_slot {
    _Alignas(64) atomic_int state;
    void (*task)(void *);
    void *ctx;
};

static struct tv_lent_slot slots[SLOTS];
static atomic_int waiting;  // lent threads in WAITING (a cheap test before scanning the slots)
static atomic_long tasks_run;

int tv_lent_threads_waiting(void) { return atomic_load_explicit(&waiting, memory_order_relaxed); }

long tv_lent_tasks_run(void) { return atomic_load_explicit(&tasks_run, memory_order_relaxed); }

void tv_lend_stop(int32_t *stop) { __atomic_store_n(stop, 1, __ATOMIC_RELEASE); }

void tv_lend_thread(const int32_t *stop) {
    struct tv_lent_slot *s = NULL;
    for (int i = 0; i < SLOTS && !s; i++) {
        int absent = ABSENT;
        if (atomic_compare_exchange_strong(&slots[i].state, &absent, WAITING)) s = &slots[i];
    }
    if (!s) return;
    atomic_fetch_add(&waiting, 1);
    unsigned idle = 0;
    for (;;) {
        int st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st == POSTED) {
            int posted = POSTED;
            if (atomic_compare_exchange_strong(&s->state, &posted, RUNNING)) {
                atomic_fetch_sub(&waiting, 1);
                s->task(s->ctx);
                atomic_fetch_add_explicit(&tasks_run, 1, memory_order_relaxed);
                atomic_fetch_add(&waiting, 1);
                atomic_store_explicit(&s->state, DONE, memory_order_release);
                idle = 0;
            }
            continue;
        }
        if (st == WAITING && __atomic_load_n(stop, __ATOMIC_ACQUIRE)) {
            int w = WAITING;
            if (atomic_compare_exchange_strong(&s->state, &w, ABSENT)) {
                atomic_fetch_sub(&waiting, 1);
                return;
            }
            continue;
        }
        // Spin (a training step posts a product every ~100 µs, its longest gap, the optimiser
        // pass, is ~2 ms), then yield after ~5 ms idle so a loaded machine's other work runs.
        if (++idle < 200000) CPU_RELAX();
        else sched_yield();
    }
}

tv_lent_slot *tv_lent_post(void (*task)(void *), void *ctx) {
    if (atomic_load_explicit(&waiting, memory_order_relaxed) == 0) return NULL;
    for (int i = 0; i < SLOTS; i++) {
        int w = WAITING;
        if (atomic_compare_exchange_strong(&slots[i].state, &w, CLAIMED)) {
            slots[i].task = task;
            slots[i].ctx = ctx;
            atomic_store_explicit(&slots[i].state, POSTED, memory_order_release);
            return &slots[i];
        }
    }
    return NULL;
}

void tv_lent_join(tv_lent_slot *s) {
    int posted = POSTED;
    if (atomic_compare_exchange_strong(&s->state, &posted, CLAIMED)) {
        s->task(s->ctx);  // not started: run it here
    } else {
        while (atomic_load_explicit(&s->state, memory_order_acquire) != DONE) CPU_RELAX();
    }
    atomic_store_explicit(&s->state, WAITING, memory_order_release);
}

/* sweep_pair.h: a helper thread scoring the upper half of a row's slots. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include "alloc.h"
#include "block_bb.h"
#include "sweep_pair.h"

struct sweep_pair {
    state_t *st;
    pthread_t thread;
    /* Written by the chain's thread before it publishes `ticket`. */
    int row, split;
    partition_view_t view;
    /* Handover: the chain's thread stores ticket (release) once the row is
     * set. The upper half of ticket t is scored by whichever thread first
     * moves `claimed` from t - 1 to t: the helper, which then stores
     * done = t (release), or, when the helper has not woken up by the time
     * the chain's thread is through its own half (a loaded machine took
     * the helper's core), the chain's thread itself, so that it never
     * waits for a thread that is not running. A ticket of -1 tells the
     * helper to return. */
    long ticket, claimed, done;
    /* Rows whose scores the chain's thread waited long for (the helper was
     * preempted mid-row): past SWEEP_PAIR_MAX_STALLS in a sweep, the
     * machine is too busy for the pair to pay, and the chain's thread
     * scores the rest of the sweep alone. */
    int stalls;
};

#define SWEEP_PAIR_MAX_STALLS 16

/* Spinning is the point (a handover in well under a microsecond); after a
 * long wait the waiter yields, so that a helper that lost its core (a
 * loaded machine) is not starved by the thread waiting for it. */
#define SPINS_BEFORE_YIELD 1024

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static long wait_for_change(const long *counter, long from) {
    long now;
    int spins = 0;
    while ((now = __atomic_load_n(counter, __ATOMIC_ACQUIRE)) == from) {
        if (++spins < SPINS_BEFORE_YIELD) {
            cpu_relax();
        } else {
            spins = 0;
            sched_yield();
        }
    }
    return now;
}

/* Returns whether the wait was long (it had to yield). */
static int wait_for_value(const long *counter, long value) {
    int spins = 0, stalled = 0;
    while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) != value) {
        if (++spins < SPINS_BEFORE_YIELD) {
            cpu_relax();
        } else {
            spins = 0;
            stalled = 1;
            sched_yield();
        }
    }
    return stalled;
}

static int claim(sweep_pair_t *pair, long ticket) {
    long expected = ticket - 1;
    return __atomic_compare_exchange_n(&pair->claimed, &expected, ticket, 0,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static void score_upper_half(const sweep_pair_t *pair) {
    const state_t *st = pair->st;
    bb_score_range(&st->blocks[0], &pair->view, pair->row, st->scores,
                   pair->split, pair->view.slot_span);
}

static void *helper_main(void *arg) {
    sweep_pair_t *pair = arg;
    long seen = 0;
    for (;;) {
        const long ticket = wait_for_change(&pair->ticket, seen);
        if (ticket < 0) return NULL;
        seen = ticket;
        if (!claim(pair, ticket)) continue;
        score_upper_half(pair);
        __atomic_store_n(&pair->done, ticket, __ATOMIC_RELEASE);
    }
}

int sweep_pair_applies(const state_t *st) {
    if (st->n_blocks != 1 || st->blocks[0].ops->kind != BLOCK_BETA_BERNOULLI ||
        st->slot_span < SWEEP_PAIR_MIN_SLOTS || st->n < 1)
        return 0;
    /* A row's scoring work: a line of a tile per on-feature per block of
     * slots. */
    const data_t *data = bb_of(&st->blocks[0])->data;
    const double on_per_row = (double)data->on_start[st->n] / st->n;
    const double blocks = (double)st->slot_span / SLOT_BLOCK;
    return blocks * (on_per_row + 1) >= SWEEP_PAIR_MIN_WORK;
}

sweep_pair_t *sweep_pair_start(state_t *st) {
    sweep_pair_t *pair = ms_calloc(1, sizeof(*pair));
    if (pair == NULL) return NULL;
    pair->st = st;
    if (pthread_create(&pair->thread, NULL, helper_main, pair) != 0) {
        free(pair);
        return NULL;
    }
    return pair;
}

void sweep_pair_score_row(sweep_pair_t *pair, int row) {
    state_t *st = pair->st;
    const partition_view_t p = state_view(st);
    if (pair->stalls > SWEEP_PAIR_MAX_STALLS) {
        bb_score_range(&st->blocks[0], &p, row, st->scores, 0, p.slot_span);
        return;
    }
    /* Whole blocks of slots on each side, the helper's half at the top. */
    const int blocks = (p.slot_span + SLOT_BLOCK - 1) / SLOT_BLOCK;
    const int split = blocks / 2 * SLOT_BLOCK;
    pair->row = row;
    pair->split = split;
    pair->view = p;
    const long ticket = pair->ticket + 1;
    __atomic_store_n(&pair->ticket, ticket, __ATOMIC_RELEASE);
    bb_score_range(&st->blocks[0], &p, row, st->scores, 0, split);
    if (claim(pair, ticket)) score_upper_half(pair);
    else pair->stalls += wait_for_value(&pair->done, ticket);
}

void sweep_pair_stop(sweep_pair_t *pair) {
    if (pair == NULL) return;
    __atomic_store_n(&pair->ticket, -1L, __ATOMIC_RELEASE);
    pthread_join(pair->thread, NULL);
    free(pair);
}

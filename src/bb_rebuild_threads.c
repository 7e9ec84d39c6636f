/* The bb block's tables rebuilt on several threads (block_bb.h), after the
 * feature hyperparameter kernel has changed every a_d and b_d: about five
 * logs per feature and slot (4 D per slot, D per distinct group size for
 * the denominators), a few ms at K = 170 on MNIST, which on one thread
 * would cap the kernel's speed-up on two.
 *
 * Two parallel fors. The denominators T(N) first, one unit per distinct
 * size N that a clean slot needs (N and N - 1), each written to its own
 * memo entry; then the slots, one unit per block of SLOT_BLOCK slots, so
 * that two threads never write the same cache line of a delta tile. Every
 * value is computed by the one function that computes it on one thread,
 * from the same inputs, so the bits do not depend on the thread count. */
#include <math.h>
#include <stdlib.h>
#include "alloc.h"
#include "block_bb.h"
#include "parallel.h"
#include "status.h"

typedef struct {
    bb_block_t *bb;
    const partition_view_t *p;
    const int *sizes;       /* distinct N whose T(N) is memoised */
    const char *rebuild;    /* slot_span flags: active or the ghost */
} rebuild_run_t;

static int memo_unit(void *ctx, int unit, int thread, parallel_pool_t *pool) {
    (void)thread;
    (void)pool;
    const rebuild_run_t *run = ctx;
    bb_log_denominator(run->bb, run->sizes[unit]);
    return MS_OK;
}

static int slot_block_unit(void *ctx, int unit, int thread,
                           parallel_pool_t *pool) {
    (void)thread;
    (void)pool;
    const rebuild_run_t *run = ctx;
    const int end = (unit + 1) * SLOT_BLOCK < run->p->slot_span
                        ? (unit + 1) * SLOT_BLOCK : run->p->slot_span;
    for (int k = unit * SLOT_BLOCK; k < end; k++)
        if (run->rebuild[k]) bb_slot_rebuild(run->bb, run->p, k);
    return MS_OK;
}

void bb_rebuild_tables_threaded(bb_block_t *bb, const partition_view_t *p,
                                int threads) {
    const int span = p->slot_span, n = bb->n;
    char *rebuild = threads > 1 ? ms_calloc((size_t)span + 1, 1) : NULL;
    char *needed = rebuild ? ms_calloc((size_t)n + 1, 1) : NULL;
    int *sizes = needed ? ms_malloc(((size_t)n + 1) * sizeof(int)) : NULL;
    if (sizes == NULL) {
        free(rebuild);
        free(needed);
        bb_rebuild_tables(bb, p);
        return;
    }
    bb_rebuild_begin(bb);
    /* The slots bb_rebuild_tables rebuilds, and the sizes their bases ask
     * T() of (bb_slot_set_base: a clean slot of N rows, T(N) and, if N >
     * 0, T(N - 1); sizes above n are not memoised). */
    int n_sizes = 0;
    for (int j = 0; j <= p->n_active; j++) {
        const int k = j < p->n_active ? p->active[j] : p->ghost;
        if (k < 0) continue;
        rebuild[k] = 1;
        if (bb->missing[k] > 0) continue;
        for (int N = p->size[k]; N >= 0 && N >= p->size[k] - 1; N--) {
            if (N > n || needed[N]) continue;
            needed[N] = 1;
            sizes[n_sizes++] = N;
        }
    }
    rebuild_run_t run = {bb, p, sizes, rebuild};
    /* A unit's status is always MS_OK; a pool that cannot start runs the
     * units here. The second loop only reads the memo the first filled. */
    int status = parallel_for(n_sizes, threads, memo_unit, &run, NULL, NULL);
    if (status == MS_OK)
        status = parallel_for((span + SLOT_BLOCK - 1) / SLOT_BLOCK, threads,
                              slot_block_unit, &run, NULL, NULL);
    if (status != MS_OK) bb_rebuild_tables(bb, p);
    free(rebuild);
    free(needed);
    free(sizes);
}

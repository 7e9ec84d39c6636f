/* The data's log marginal (state.h) with the bb block's per-feature terms
 * on several threads: the log joint is computed once per iteration, about
 * 3 K D log Gamma values (2-3 ms at K = 170 on MNIST), and on one thread
 * it would be a fixed share of a chain's iteration whatever its threads.
 *
 * Each feature's term is score_feature over its counts, computed as
 * state_data_log_marginal computes it, into its own entry; the terms are
 * then added in feature order on the calling thread, as there, so the sum
 * has the same bits whatever the number of threads. */
#include <stdlib.h>
#include "alloc.h"
#include "block_bb.h"
#include "parallel.h"
#include "score.h"
#include "state_internal.h"
#include "status.h"

/* Consecutive features per unit: about 3 K log Gamma values each, so a
 * unit of 16 takes some 10 us at K = 170, far above a unit's hand-out. */
#define FEATURES_PER_UNIT 16

typedef struct {
    const bb_block_t *bb;
    partition_view_t p;
    int *scratch;           /* 2 n_active ints per thread */
    double *terms;          /* D */
} terms_run_t;

static int feature_terms_unit(void *ctx, int unit, int thread,
                              parallel_pool_t *pool) {
    (void)pool;
    const terms_run_t *run = ctx;
    const int K = run->p.n_active, D = run->bb->D;
    int *heads = run->scratch + (size_t)thread * 2 * K, *tails = heads + K;
    const int end = (unit + 1) * FEATURES_PER_UNIT < D
                        ? (unit + 1) * FEATURES_PER_UNIT : D;
    for (int d = unit * FEATURES_PER_UNIT; d < end; d++) {
        bb_gather_feature_counts(run->bb, &run->p, d, heads, tails);
        run->terms[d] = score_feature(heads, tails, K, run->bb->a[d],
                                      run->bb->b[d]);
    }
    return MS_OK;
}

/* The bb block's terms into terms[0 .. D): MS_OK, or MS_ERR_NOMEM (the
 * caller then sums on its own thread). */
static int bb_terms(const bb_block_t *bb, const partition_view_t *p,
                    int threads, double *terms) {
    const size_t K = (size_t)(p->n_active > 0 ? p->n_active : 1);
    int *scratch = ms_malloc((size_t)threads * 2 * K * sizeof(int));
    if (scratch == NULL) return MS_ERR_NOMEM;
    terms_run_t run = {bb, *p, scratch, terms};
    const int units = (bb->D + FEATURES_PER_UNIT - 1) / FEATURES_PER_UNIT;
    const int status =
        parallel_for(units, threads, feature_terms_unit, &run, NULL, NULL);
    free(scratch);
    return status;
}

double state_data_log_marginal_threaded(const state_t *st, int *heads,
                                        int *tails, int threads) {
    const block_t *bb_blk = NULL;
    for (int b = 0; b < st->n_blocks && bb_blk == NULL; b++)
        if (st->blocks[b].ops->kind == BLOCK_BETA_BERNOULLI)
            bb_blk = &st->blocks[b];
    if (threads < 2 || bb_blk == NULL)
        return state_data_log_marginal(st, heads, tails);
    const bb_block_t *bb = bb_of(bb_blk);
    const partition_view_t p = state_view(st);
    double *terms = ms_malloc((size_t)(bb->D > 0 ? bb->D : 1) * sizeof(double));
    if (terms == NULL || bb_terms(bb, &p, threads, terms) != MS_OK) {
        free(terms);
        return state_data_log_marginal(st, heads, tails);
    }
    const double score = state_data_log_marginal_from(st, heads, tails, terms);
    free(terms);
    return score;
}

/* The bb block's audit (block.h `check`): counts recounted from the data
 * and the partition, every cached table recomputed and compared. Tests
 * reach it through state_check() (get_latent() with
 * options(microscopes.check_state = TRUE)). */
#include <math.h>
#include <stdlib.h>
#include "block_bb.h"
#include "log_sum.h"

/* Base sums are recomputed in another order than the updates summed them
 * (and T(N) is a log of products), so they agree to rounding only. */
#define BASE_TOLERANCE 1e-9

static int close_enough(double x, double y) {
    return fabs(x - y) <= BASE_TOLERANCE * (1.0 + fabs(y));
}

/* The partition checked group_of_row (state_check.c) before the blocks. */
static const char *check_counts(const bb_block_t *bb,
                                const partition_view_t *p) {
    const int D = bb->D;
    const data_t *data = bb->data;
    int *heads = calloc((size_t)p->capacity * D + 1, sizeof(int));
    int *tails = calloc((size_t)p->capacity * D + 1, sizeof(int));
    int *missing = calloc((size_t)p->capacity + 1, sizeof(int));
    const char *problem = NULL;
    if (!heads || !tails || !missing) {
        problem = "out of memory while checking";
        goto done;
    }
    if (bb->capacity < p->capacity) {
        problem = "the bb block holds fewer slots than the partition";
        goto done;
    }
    for (int i = 0; i < p->n; i++) {
        const int k = p->group_of_row[i];
        for (int d = 0; d < D; d++) {
            const uint8_t code = data->codes[(size_t)i * D + d];
            heads[(size_t)k * D + d] += code == CODE_ON;
            tails[(size_t)k * D + d] += code == CODE_OFF;
            missing[k] += code == CODE_MISSING;
        }
    }
    for (int k = 0; k < p->capacity && !problem; k++) {
        if (missing[k] != bb->missing[k])
            problem = "a slot's missing count differs from its rows";
        for (int d = 0; d < D && !problem; d++)
            if (heads[(size_t)k * D + d] != bb->heads[(size_t)k * D + d] ||
                tails[(size_t)k * D + d] != bb->tails[(size_t)k * D + d])
                problem = "a slot's counts differ from the data";
    }
done:
    free(heads);
    free(tails);
    free(missing);
    return problem;
}

/* Every table entry of a slot in use (the active ones and the ghost) is
 * recomputed by the expression block_bb.c uses, so it must agree to the
 * last bit. */
static const char *check_slot_tables(const bb_block_t *bb,
                                     const partition_view_t *p, int k) {
    const int D = bb->D;
    const size_t off = (size_t)k * D;
    const double *delta = bb_slot_delta(bb, k);
    double sum_bt = 0.0, sum_btm = 0.0, sum_sm = 0.0, sum_smm = 0.0;
    for (int d = 0; d < D; d++) {
        const int h = bb->heads[off + d], t = bb->tails[off + d];
        const double ah = log_shift(bb->a[d], h), ahm = log_shift(bb->a[d], h - 1);
        const double bt = log_shift(bb->b[d], t), btm = log_shift(bb->b[d], t - 1);
        const double sm = log_shift(bb->s[d], h + t),
                     smm = log_shift(bb->s[d], h + t - 1);
        if (bb->log_ah[off + d] != ah || bb->log_ahm[off + d] != ahm ||
            bb->log_bt[off + d] != bt || bb->log_btm[off + d] != btm)
            return "a cached log table differs from its count";
        if (delta[(size_t)d * SLOT_BLOCK] != ah - bt ||
            bb->delta_loo[off + d] != ahm - btm)
            return "a cached delta differs from its count";
        if (bb->missing[k] > 0 &&
            (bb->log_sm[off + d] != sm || bb->log_smm[off + d] != smm))
            return "a cached denominator differs from its count";
        sum_bt += bt;
        sum_btm += btm;
        sum_sm += sm;
        sum_smm += smm;
    }
    if (!close_enough(bb->base[k], sum_bt - sum_sm))
        return "a slot's base sum differs from its tables";
    if (p->size[k] > 0 && !close_enough(bb->base_loo[k], sum_btm - sum_smm))
        return "a slot's leave-one-out base sum differs from its tables";
    return NULL;
}

static const char *check_tables(const bb_block_t *bb,
                                const partition_view_t *p) {
    const int D = bb->D;
    const char *problem = NULL;
    for (int j = 0; j < p->n_active && !problem; j++)
        problem = check_slot_tables(bb, p, p->active[j]);
    if (!problem) problem = check_slot_tables(bb, p, p->ghost);
    if (problem) return problem;
    if (bb->n_shared > 0)
        for (int d = 0; d < D; d++)
            for (int c = 0; c <= bb->n; c += 1 + bb->n / 16)
                if (bb->log_a_table[d][c] != log_shift(bb->a[d], c) ||
                    bb->log_b_table[d][c] != log_shift(bb->b[d], c))
                    return "a shared log table does not match its feature";
    for (int N = 0; N <= bb->n; N++) {
        const double T = bb->log_denominator[N];
        if (!isnan(T) && !close_enough(T, sum_log_shifted(bb->s, D, (double)N)))
            return "a memoised denominator is stale";
    }
    return NULL;
}

const char *bb_check(const block_t *blk, const partition_view_t *p) {
    const bb_block_t *bb = bb_of(blk);
    const char *problem = check_counts(bb, p);
    if (problem == NULL) problem = check_tables(bb, p);
    return problem;
}

/* Scoring a row against the groups of the bb block, and the closed-form
 * log marginal of a group (block_bb.h): the assign kernel's inner loop,
 * run for every row of every sweep, and split-merge's targets. */
#include "block_bb.h"
#include "log_gamma.h"

#if SLOT_BLOCK != 8
#error "score_block adds blocks of 8 slots"
#endif

/* Adds, per on-feature of the row, that feature's line of a delta tile to
 * the scores of one block of slots: the block lives in locals, so the adds
 * stay in registers and GCC -O2 vectorises them (SLP) without any flag. */
static void score_block(const double *restrict tile, const int *restrict on,
                        int n_on, const double *restrict base,
                        double *restrict out) {
    double s0 = base[0], s1 = base[1], s2 = base[2], s3 = base[3];
    double s4 = base[4], s5 = base[5], s6 = base[6], s7 = base[7];
    for (int j = 0; j < n_on; j++) {
        const double *restrict v = tile + (size_t)on[j] * SLOT_BLOCK;
        s0 += v[0];
        s1 += v[1];
        s2 += v[2];
        s3 += v[3];
        s4 += v[4];
        s5 += v[5];
        s6 += v[6];
        s7 += v[7];
    }
    out[0] = s0;
    out[1] = s1;
    out[2] = s2;
    out[3] = s3;
    out[4] = s4;
    out[5] = s5;
    out[6] = s6;
    out[7] = s7;
}

/* score_block for two consecutive blocks of slots at once: each slot's sum
 * is the same chain of adds in the same order (so the same bits), but the
 * two blocks' chains are independent, so the CPU overlaps them instead of
 * waiting out the latency of each add; with one block per pass the sweep
 * at K ~ 170 is bound by that latency, not by reading the tiles. */
static void score_two_blocks(const double *restrict tile,
                             const double *restrict tile2,
                             const int *restrict on, int n_on,
                             const double *restrict base,
                             double *restrict out) {
    double s0 = base[0], s1 = base[1], s2 = base[2], s3 = base[3];
    double s4 = base[4], s5 = base[5], s6 = base[6], s7 = base[7];
    double t0 = base[8], t1 = base[9], t2 = base[10], t3 = base[11];
    double t4 = base[12], t5 = base[13], t6 = base[14], t7 = base[15];
    for (int j = 0; j < n_on; j++) {
        const double *restrict v = tile + (size_t)on[j] * SLOT_BLOCK;
        const double *restrict w = tile2 + (size_t)on[j] * SLOT_BLOCK;
        s0 += v[0];
        s1 += v[1];
        s2 += v[2];
        s3 += v[3];
        s4 += v[4];
        s5 += v[5];
        s6 += v[6];
        s7 += v[7];
        t0 += w[0];
        t1 += w[1];
        t2 += w[2];
        t3 += w[3];
        t4 += w[4];
        t5 += w[5];
        t6 += w[6];
        t7 += w[7];
    }
    out[0] = s0;
    out[1] = s1;
    out[2] = s2;
    out[3] = s3;
    out[4] = s4;
    out[5] = s5;
    out[6] = s6;
    out[7] = s7;
    out[8] = t0;
    out[9] = t1;
    out[10] = t2;
    out[11] = t3;
    out[12] = t4;
    out[13] = t5;
    out[14] = t6;
    out[15] = t7;
}

/* log p(x_d = 0 | slot k) = log_bt - log(s + m) of each missing feature of
 * the row, which the base sum counted and the score must not. A clean
 * slot has m = size and no denominator table. */
double bb_missing_terms(const bb_block_t *bb, const partition_view_t *p,
                        int row, int k) {
    const data_t *data = bb->data;
    const size_t off = (size_t)k * bb->D;
    const int *feature = data->missing_feature + data->missing_start[row];
    const int n_missing = row_missing(data, row);
    double terms = 0.0;
    if (bb->missing[k] > 0) {
        for (int j = 0; j < n_missing; j++)
            terms += bb->log_bt[off + feature[j]] - bb->log_sm[off + feature[j]];
    } else {
        for (int j = 0; j < n_missing; j++) {
            const int d = feature[j];
            terms += bb->log_bt[off + d] - log_shift(bb->s[d], p->size[k]);
        }
    }
    return terms;
}

void bb_score_range(const block_t *blk, const partition_view_t *p, int row,
                    double *scores, int k_begin, int k_end) {
    const bb_block_t *bb = bb_of(blk);
    const data_t *data = bb->data;
    const int *on = data->on_feature + data->on_start[row];
    const int n_on = data->on_start[row + 1] - data->on_start[row];
    const size_t block_stride = (size_t)bb->D * SLOT_BLOCK;
    int k0 = k_begin;
    for (; k0 + SLOT_BLOCK < k_end; k0 += 2 * SLOT_BLOCK) {
        const double *tile = bb_slot_delta(bb, k0);
        score_two_blocks(tile, tile + block_stride, on, n_on, bb->base + k0,
                         scores + k0);
    }
    if (k0 < k_end)
        score_block(bb_slot_delta(bb, k0), on, n_on, bb->base + k0,
                    scores + k0);
    if (row_missing(data, row) > 0) {
        for (int j = 0; j <= p->n_active; j++) {
            const int k = j < p->n_active ? p->active[j] : p->ghost;
            if (k >= k_begin && k < k_end)
                scores[k] -= bb_missing_terms(bb, p, row, k);
        }
    }
}

/* The first block writes the scores (accumulate = 0); with more blocks
 * the others add theirs (block.h). */
void bb_score_all(block_t *blk, const partition_view_t *p, int row,
                  double *scores, int accumulate) {
    if (!accumulate) {
        bb_score_range(blk, p, row, scores, 0, p->slot_span);
        return;
    }
    for (int j = 0; j <= p->n_active; j++) {
        const int k = j < p->n_active ? p->active[j] : p->ghost;
        scores[k] += bb_score_slot(blk, p, row, k);
    }
}

double bb_score_slot(const block_t *blk, const partition_view_t *p, int row,
                     int k) {
    /* The sum of bb_score_all for one slot, in the same order. */
    const bb_block_t *bb = bb_of(blk);
    const data_t *data = bb->data;
    const double *delta = bb_slot_delta(bb, k);
    double score = bb->base[k];
    for (int j = data->on_start[row]; j < data->on_start[row + 1]; j++)
        score += delta[(size_t)data->on_feature[j] * SLOT_BLOCK];
    if (row_missing(data, row) > 0) score -= bb_missing_terms(bb, p, row, k);
    return score;
}

double bb_score_slot_loo(const block_t *blk, const partition_view_t *p,
                         int row, int slot) {
    (void)p;
    const bb_block_t *bb = bb_of(blk);
    const data_t *data = bb->data;
    const size_t off = (size_t)slot * bb->D;
    const double *delta = bb->delta_loo + off;
    double score = bb->base_loo[slot];
    for (int j = data->on_start[row]; j < data->on_start[row + 1]; j++)
        score += delta[data->on_feature[j]];
    /* A row with missing entries makes its slot keep the denominators. */
    for (int j = data->missing_start[row]; j < data->missing_start[row + 1];
         j++) {
        const int d = data->missing_feature[j];
        score -= bb->log_btm[off + d] - bb->log_smm[off + d];
    }
    return score;
}

/* Closed-form log marginal likelihood of a group with per-feature counts
 * h_d, t_d (missing entries are in neither):
 *   sum_d [log B(a_d + h_d, b_d + t_d) - log B(a_d, b_d)],
 * a feature the group never observed adding 0: the expression of
 * score_feature (score.c), one group at a time. */
static double counts_log_marginal(const bb_block_t *bb, const int *heads,
                                  const int *tails, const int *heads2,
                                  const int *tails2) {
    double score = 0.0;
    for (int d = 0; d < bb->D; d++) {
        const int h = heads2 ? heads[d] + heads2[d] : heads[d];
        const int t = tails2 ? tails[d] + tails2[d] : tails[d];
        if (h + t == 0) continue;
        const double a = bb->a[d], b = bb->b[d];
        score += log_gamma(a + h) + log_gamma(b + t) -
                 log_gamma(a + b + h + t) - bb->log_beta_ab[d];
    }
    return score;
}

double bb_group_log_marginal(const block_t *blk, const partition_view_t *p,
                             int k) {
    (void)p;
    const bb_block_t *bb = bb_of(blk);
    const size_t off = (size_t)k * bb->D;
    return counts_log_marginal(bb, bb->heads + off, bb->tails + off, NULL,
                               NULL);
}

double bb_merged_log_marginal(const block_t *blk, const partition_view_t *p,
                              int k1, int k2) {
    (void)p;
    const bb_block_t *bb = bb_of(blk);
    const size_t off1 = (size_t)k1 * bb->D, off2 = (size_t)k2 * bb->D;
    return counts_log_marginal(bb, bb->heads + off1, bb->tails + off1,
                               bb->heads + off2, bb->tails + off2);
}

/* The bb block's predictive operations (block.h, appended ops), for the
 * posterior-predictive queries of mixed states and for blocks rebuilt from
 * saved statistics: with h heads and t tails in slot k, a cell is 1 with
 * probability (a + h) / (a + b + h + t) (the beta-Bernoulli predictive). */
#include <math.h>
#include "block_bb.h"
#include "rng.h"

static double prob_one(const bb_block_t *bb, int k, int j) {
    const size_t at = (size_t)k * bb->D + j;
    return (bb->a[j] + bb->heads[at]) /
           (bb->s[j] + bb->heads[at] + bb->tails[at]);
}

int bb_cell_size(const block_t *blk, int j) {
    (void)blk;
    (void)j;
    return 1;
}

double bb_log_predictive(const block_t *blk, int k, int j,
                                const double *cell) {
    const double p = prob_one(bb_of(blk), k, j);
    return cell[0] != 0.0 ? log(p) : log1p(-p);
}

void bb_predictive_mean(const block_t *blk, int k, int j,
                               double *out) {
    out[0] = prob_one(bb_of(blk), k, j);
}

void bb_sample_predictive(const block_t *blk, int k, int j,
                                 rng_t *rng, double *out) {
    out[0] = rng_unif(rng) < prob_one(bb_of(blk), k, j) ? 1.0 : 0.0;
}

/* a and b are positive: the hyperparameter kernels never ask. */
double bb_hp_scale(const block_t *blk, int j, int c) {
    (void)blk;
    (void)j;
    (void)c;
    return 1.0;
}

/* Sets slot k's counts of feature j. The bb tables also depend on the
 * slot's missing cells, which are not statistics: a block rebuilt from
 * saved counts (queries, score_data) reads only counts through the
 * predictive ops and group marginals; a runner rebuilds a bb block from
 * its data (recount), exactly. */
void bb_set_stats(block_t *blk, int k, int j, const double *in) {
    bb_block_t *bb = bb_of(blk);
    const size_t at = (size_t)k * bb->D + j;
    bb->heads[at] = (int)in[0];
    bb->tails[at] = (int)in[1];
}

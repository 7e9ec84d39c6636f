#include <math.h>
#include <stdlib.h>
#include "alloc.h"
#include "block_bb.h"
#include "kernels_block_hp.h"
#include "kernels.h"
#include "log_sum.h"
#include "score.h"
#include "slice.h"
#include "status.h"

/* Stepping-out limit (Neal's m): with the default width 0.1 one update can
 * move a hyperparameter by up to 10 units. The limit is a trade: the
 * posterior of b for a blank MNIST pixel has a tail like b^(-5/2), and
 * m = 1000 made the seed job's hyperparameter kernel 4x slower, while a
 * wide posterior (tiny data sets) is still reached over several updates,
 * or in one with a larger `width`. (A doubling version, Neal's figure 4,
 * reached further per update but failed our enumeration test of the
 * partition posterior; not kept.) */
#define FEATURE_HP_MAX_STEPS 100

typedef struct {
    const prior_t *prior;
    const int *moving_counts;   /* heads (slicing a) or tails (slicing b) */
    int n_moving;               /* of the groups where that count is > 0 */
    const int *totals;          /* heads + tails of the groups where > 0 */
    int n_totals;
    double fixed;               /* the hyperparameter held fixed */
    int moving_b;               /* 0: slice over a; 1: over b */
} feature_target_t;

/* Joint log prior of (a, b). */
static double feature_prior(const prior_t *prior, double a, double b) {
    if (prior->kind == PRIOR_NONINFORMATIVE_BETA) {
        if (!(a > prior->lower && a < prior->upper && b > prior->lower &&
              b < prior->upper))
            return -INFINITY;
        return -2.5 * log(a + b);
    }
    return prior_log_density(prior, a) + prior_log_density(prior, b);
}

/* The feature's marginal likelihood (score.h) is, with R(x; c) = log Gamma(x
 * + c) - log Gamma(x), sum over groups of R(a; h) + R(b; t) - R(a + b; m).
 * Slicing one hyperparameter, the other's R terms are constant and dropped
 * (a slice sampler needs the density only up to a constant), as are the
 * groups whose count is 0, for which R is 0: slicing a over K groups takes
 * (groups with h > 0) + (groups with m > 0) + 2 log Gamma values where the
 * full score takes 3K + 3, and small counts take none (log_sum.c). */
static double feature_log_density(double x, void *context) {
    const feature_target_t *t = context;
    const double a = t->moving_b ? t->fixed : x, b = t->moving_b ? x : t->fixed;
    const double log_prior = feature_prior(t->prior, a, b);
    if (!isfinite(log_prior)) return -INFINITY;
    return log_prior + log_rising_sum(x, t->moving_counts, t->n_moving) -
           log_rising_sum(a + b, t->totals, t->n_totals);
}

enum { HEADS, TAILS, OBSERVED };

/* Copies the nonzero counts of the bb block's feature d over the active
 * groups (heads, tails or observed = heads + tails) into a contiguous
 * array, so that the slice sampler's many evaluations read them without
 * striding. Returns how many there are. */
static int gather_nonzero(const state_t *st, const bb_block_t *bb, int d,
                          int which, int *out) {
    int n = 0;
    for (int j = 0; j < st->n_active; j++) {
        const size_t at = (size_t)st->active[j] * bb->D + d;
        const int c = which == HEADS   ? bb->heads[at]
                      : which == TAILS ? bb->tails[at]
                                       : bb->heads[at] + bb->tails[at];
        if (c > 0) out[n++] = c;
    }
    return n;
}

static void prior_bounds(const prior_t *prior, double *lower, double *upper) {
    if (prior->kind == PRIOR_NONINFORMATIVE_BETA) {
        *lower = prior->lower;
        *upper = prior->upper;
    } else {
        *lower = 0.0;
        *upper = INFINITY;
    }
}

/* The dispatch point per block kind: a kernel's features are global ids;
 * the bb features are updated here by the bb code below (its bits are
 * today's), the features of other kinds by the generic slice kernel over
 * their block (kernels_block_hp.c, kernel_slice_block_hp), with the
 * block's own default hyperprior (MODELS.md) and the kernel's width. */
static int feature_is_bb(const state_t *st, int d, block_t **blk, int *j) {
    *blk = &st->blocks[st->feature_block[d]];
    *j = st->feature_local[d];
    return (*blk)->ops->kind == BLOCK_BETA_BERNOULLI;
}

static void set_bb_hp(block_t *blk, int j, double a, double b) {
    const double hp[2] = {a, b};
    blk->ops->set_hp(blk, j, hp);
}

/* The kernel's features of the non-bb blocks, block by block (kinds in
 * scoring order, each block's features in the kernel's order), each
 * block's list through the generic slice kernel. `locals`: n_features
 * ints of scratch. */
static int slice_other_blocks(state_t *st, const kernel_t *kernel, rng_t *rng,
                              int *locals) {
    const partition_view_t p = state_view(st);
    int status = MS_OK;
    for (int b = 0; b < st->n_blocks && status == MS_OK; b++) {
        block_t *blk = &st->blocks[b];
        if (blk->ops->kind == BLOCK_BETA_BERNOULLI) continue;
        int m = 0;
        for (int f = 0; f < kernel->n_features; f++)
            if (st->feature_block[kernel->features[f]] == b)
                locals[m++] = st->feature_local[kernel->features[f]];
        if (m > 0)
            status = kernel_slice_block_hp(blk, &p, locals, m, kernel->width,
                                           rng);
    }
    return status;
}

int kernel_slice_feature_hp(state_t *st, const kernel_t *kernel, rng_t *rng,
                            workspace_t *ws) {
    slice_options_t options = {kernel->width, FEATURE_HP_MAX_STEPS, 0, 0};
    prior_bounds(&kernel->prior, &options.lower, &options.upper);
    int status = MS_OK, others = 0;
    for (int f = 0; f < kernel->n_features && status == MS_OK; f++) {
        block_t *blk;
        int d;
        if (!feature_is_bb(st, kernel->features[f], &blk, &d)) {
            others = 1;
            continue;
        }
        const bb_block_t *bb = bb_of(blk);
        feature_target_t target = {&kernel->prior, ws->heads_of_feature, 0,
                                   ws->tails_of_feature, 0, bb->b[d], 0};
        target.n_totals = gather_nonzero(st, bb, d, OBSERVED, ws->tails_of_feature);
        target.n_moving = gather_nonzero(st, bb, d, HEADS, ws->heads_of_feature);
        const double a = slice_sample(bb->a[d], feature_log_density, &target,
                                      &options, rng, &status);
        double b = bb->b[d];
        if (status == MS_OK) {
            target.n_moving = gather_nonzero(st, bb, d, TAILS, ws->heads_of_feature);
            target.fixed = a;
            target.moving_b = 1;
            b = slice_sample(b, feature_log_density, &target, &options, rng,
                             &status);
        }
        set_bb_hp(blk, d, a, b);
    }
    if (status == MS_OK && others) {
        int *locals = ms_malloc((size_t)kernel->n_features * sizeof(int));
        status = locals ? slice_other_blocks(st, kernel, rng, locals)
                        : MS_ERR_NOMEM;
        free(locals);
    }
    const int rebuilt = state_rebuild_tables(st);
    return status ? status : rebuilt;
}

int kernel_grid_feature_hp(state_t *st, const kernel_t *kernel, rng_t *rng,
                           workspace_t *ws) {
    const partition_view_t p = state_view(st);
    for (int f = 0; f < kernel->n_features; f++) {
        block_t *blk;
        int d;
        /* A grid of (a, b) points is a bb kernel only. */
        if (!feature_is_bb(st, kernel->features[f], &blk, &d)) {
            state_rebuild_tables(st);
            return MS_ERR_UNSUPPORTED;
        }
        bb_gather_feature_counts(bb_of(blk), &p, d, ws->heads_of_feature,
                                 ws->tails_of_feature);
        for (int g = 0; g < kernel->n_grid; g++)
            ws->log_weights[g] =
                kernel->grid_log_weight[g] +
                score_feature(ws->heads_of_feature, ws->tails_of_feature,
                              st->n_active, kernel->grid_a[g],
                              kernel->grid_b[g]);
        const int g = rng_categorical_log(rng, ws->log_weights, kernel->n_grid,
                                          ws->weights);
        set_bb_hp(blk, d, kernel->grid_a[g], kernel->grid_b[g]);
    }
    return state_rebuild_tables(st);
}

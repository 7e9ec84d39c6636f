#include <math.h>
#include <stdlib.h>
#include "alloc.h"
#include "block_bb.h"
#include "kernels_block_hp.h"
#include "kernels.h"
#include "log_sum.h"
#include "parallel.h"
#include "rng.h"
#include "score.h"
#include "slice.h"
#include "status.h"

/* Stepping-out limit (Neal's m): with the default width 2 (R's
 * slice_feature_hp_kernel()) one update can move a hyperparameter by up to
 * 200 units. The limit is a trade: the
 * posterior of b for a blank MNIST pixel has a tail like b^(-5/2), and
 * m = 1000 made the seed job's hyperparameter kernel 4x slower, while a
 * wide posterior (tiny data sets) is still reached over several updates,
 * or in one with a larger `width`. (A doubling version, Neal's figure 4,
 * reached further per update but failed our enumeration test of the
 * partition posterior; not kept.) */
#define FEATURE_HP_MAX_STEPS 100

/* One feature's counts over the active groups, as log_rising_sum_grouped
 * takes them: the small ones in group order, the distinct large ones (in
 * order of first appearance) with their multiplicities. */
typedef struct {
    int *small, *large, *multiplicity;
    int n_small, n_large;
} count_list_t;

/* The target of one slice: the counts are count_list_t (the linear
 * scale's feature_log_density) or ladder_t (the log scale's
 * ladder_log_density). */
typedef struct {
    const prior_t *prior;
    const void *moving;         /* heads (slicing a) or tails (slicing b) */
    const void *totals;         /* heads + tails */
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
    const count_list_t *m = t->moving, *n = t->totals;
    return log_prior +
           log_rising_sum_grouped(x, m->small, m->n_small, m->large,
                                  m->multiplicity, m->n_large) -
           log_rising_sum_grouped(a + b, n->small, n->n_small, n->large,
                                  n->multiplicity, n->n_large);
}

/* Appends count c > 0 to a list; `position` (n + 1 entries, -1 where a
 * value is not in the list) finds a large value already there. */
static void count_list_add(count_list_t *list, int *position, int c) {
    if (c <= LOG_RISING_SMALL_MAX) {
        list->small[list->n_small++] = c;
    } else if (position[c] >= 0) {
        list->multiplicity[position[c]]++;
    } else {
        position[c] = list->n_large;
        list->large[list->n_large] = c;
        list->multiplicity[list->n_large++] = 1;
    }
}

static void count_list_reset_positions(const count_list_t *list,
                                       int *position) {
    for (int k = 0; k < list->n_large; k++) position[list->large[k]] = -1;
}

/* One pass over the active slots (each slot's entry of feature d lies D
 * ints from the next) fills the three lists of the bb block's feature d:
 * heads, tails and observed = heads + tails, zero counts left out. The
 * slice sampler's evaluations then read them contiguously, and a large
 * count shared by several groups (group sizes, in the totals of a feature
 * without missing entries) costs one log Gamma per evaluation. `position`
 * is -1 everywhere before and after. */
static void gather_counts(const state_t *st, const bb_block_t *bb, int d,
                          count_list_t lists[3], int *position[3]) {
    for (int l = 0; l < 3; l++) lists[l].n_small = lists[l].n_large = 0;
    for (int j = 0; j < st->n_active; j++) {
        const size_t at = (size_t)st->active[j] * bb->D + d;
        const int h = bb->heads[at], t = bb->tails[at];
        if (h > 0) count_list_add(&lists[0], position[0], h);
        if (t > 0) count_list_add(&lists[1], position[1], t);
        if (h + t > 0) count_list_add(&lists[2], position[2], h + t);
    }
    for (int l = 0; l < 3; l++) count_list_reset_positions(&lists[l], position[l]);
}

/* The log-scale kernel's form of the same counts (log_rising_sum_ladder):
 * each list's distinct counts in increasing order with their
 * multiplicities. */
typedef struct {
    int *counts, *multiplicity;
    int n;
} ladder_t;

/* The density of u = log a (or log b): that of a (or b) times the
 * Jacobian e^u, so `width` is a factor e^width whatever the scale of the
 * hyperparameter. A feature that is off in every group has a posterior in
 * b with a tail like b^(-5/2) up to the box's bound: on the linear scale
 * such features took 69 evaluations per update of b (most of them
 * stepping out) against 10 for the others (MNIST 2s and 3s at K = 173). */
static double ladder_log_density(double u, void *context) {
    const feature_target_t *t = context;
    const double x = exp(u);
    const double a = t->moving_b ? t->fixed : x, b = t->moving_b ? x : t->fixed;
    const double log_prior = feature_prior(t->prior, a, b);
    if (!isfinite(log_prior)) return -INFINITY;
    const ladder_t *moving = t->moving, *totals = t->totals;
    return log_prior + u +
           log_rising_sum_ladder(x, moving->counts, moving->multiplicity,
                                 moving->n) -
           log_rising_sum_ladder(a + b, totals->counts, totals->multiplicity,
                                 totals->n);
}

/* Puts a ladder's distinct counts in increasing order and reads their
 * multiplicities off `tally` (counts of each value, n + 1 entries), which
 * it leaves at 0. Counts up to `largest`: walking the tally costs
 * `largest` steps, sorting n log n; either gives the same ladder. */
static int compare_ints(const void *x, const void *y) {
    const int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

static void ladder_finish(ladder_t *l, int *tally, int largest) {
    if (largest <= 8 * l->n + 64) {
        int k = 0;
        for (int c = 1; c <= largest && k < l->n; c++) {
            if (tally[c] == 0) continue;
            l->counts[k] = c;
            l->multiplicity[k++] = tally[c];
            tally[c] = 0;
        }
    } else {
        qsort(l->counts, (size_t)l->n, sizeof(int), compare_ints);
        for (int k = 0; k < l->n; k++) {
            l->multiplicity[k] = tally[l->counts[k]];
            tally[l->counts[k]] = 0;
        }
    }
}

static void ladder_add(ladder_t *l, int *tally, int c, int *largest) {
    if (tally[c]++ == 0) l->counts[l->n++] = c;
    if (c > *largest) *largest = c;
}

/* One pass over the active slots, as gather_counts, into three ladders:
 * heads, tails, heads + tails; `tally` is 0 everywhere before and after. */
static void gather_ladders(const state_t *st, const bb_block_t *bb, int d,
                           ladder_t ladders[3], int *tally[3]) {
    int largest[3] = {0, 0, 0};
    for (int l = 0; l < 3; l++) ladders[l].n = 0;
    for (int j = 0; j < st->n_active; j++) {
        const size_t at = (size_t)st->active[j] * bb->D + d;
        const int h = bb->heads[at], t = bb->tails[at];
        if (h > 0) ladder_add(&ladders[0], tally[0], h, &largest[0]);
        if (t > 0) ladder_add(&ladders[1], tally[1], t, &largest[1]);
        if (h + t > 0) ladder_add(&ladders[2], tally[2], h + t, &largest[2]);
    }
    for (int l = 0; l < 3; l++) ladder_finish(&ladders[l], tally[l], largest[l]);
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

/* The features' updates are independent given the partition (each reads
 * only its own counts and writes only its own hyperparameters), so they are
 * units of a parallel for. Each feature f draws from its own stream, seeded
 * from one draw of the chain's stream and f's global index
 * (rng_derive_seed): the chain consumes one number per kernel call whatever
 * the number of features, and a feature's draws do not depend on which
 * thread ran it or in what order, so results do not depend on the thread
 * count. */
typedef struct {
    state_t *st;
    const kernel_t *kernel;
    slice_options_t options;
    uint64_t master;
    int *scratch;       /* scratch_stride ints per thread */
    size_t scratch_stride;
} feature_hp_run_t;

/* This thread's scratch: three maps of n + 1 entries (the linear path's
 * positions, -1; the log path's tallies, 0), then three lists of
 * 3 (n_active + 1) ints. */
static void thread_scratch(const feature_hp_run_t *run, int thread,
                           int *maps[3], int **lists_at) {
    const state_t *st = run->st;
    int *scratch = run->scratch + (size_t)thread * run->scratch_stride;
    const size_t map = (size_t)st->n + 1;
    for (int l = 0; l < 3; l++) maps[l] = scratch + (size_t)l * map;
    *lists_at = scratch + 3 * map;
}

/* Slices a given b, then b given the new a (Neal 2003, one coordinate at
 * a time), each under `density` with target->moving the counts of the
 * coordinate (heads for a, tails for b). On the log scale the slice is
 * over log a and log b, the density carrying the Jacobian. */
static int slice_a_then_b(const feature_hp_run_t *run, log_density_fn density,
                          feature_target_t *target, const void *tails,
                          int log_scale, rng_t *rng, double *a, double *b) {
    int status = MS_OK;
    const double a_from = log_scale ? log(*a) : *a;
    const double a_to = slice_sample(a_from, density, target, &run->options,
                                     rng, &status);
    *a = log_scale ? exp(a_to) : a_to;
    if (status != MS_OK) return status;
    target->moving = tails;
    target->fixed = *a;
    target->moving_b = 1;
    const double b_from = log_scale ? log(*b) : *b;
    const double b_to = slice_sample(b_from, density, target, &run->options,
                                     rng, &status);
    *b = log_scale ? exp(b_to) : b_to;
    return status;
}

/* The kernel of 0.4.0 and before (scale = "linear"): a, then b, sliced
 * on their own scale over grouped counts; its bits are those of 0.4.0. */
static int update_linear(const feature_hp_run_t *run, const bb_block_t *bb,
                         int d, int thread, rng_t *rng, double *a, double *b) {
    const state_t *st = run->st;
    const size_t slots = (size_t)st->n_active + 1;
    int *position[3], *lists_at;
    thread_scratch(run, thread, position, &lists_at);
    count_list_t lists[3];
    for (int l = 0; l < 3; l++) {
        int *at = lists_at + (size_t)l * 3 * slots;
        lists[l] = (count_list_t){at, at + slots, at + 2 * slots, 0, 0};
    }
    gather_counts(st, bb, d, lists, position);
    feature_target_t target = {&run->kernel->prior, &lists[0], &lists[2],
                               bb->b[d], 0};
    *a = bb->a[d];
    *b = bb->b[d];
    return slice_a_then_b(run, feature_log_density, &target, &lists[1], 0, rng,
                          a, b);
}

/* scale = "log": log a, then log b, over the ladders of the counts. */
static int update_log_scale(const feature_hp_run_t *run, const bb_block_t *bb,
                            int d, int thread, rng_t *rng, double *a,
                            double *b) {
    const state_t *st = run->st;
    const size_t slots = (size_t)st->n_active + 1;
    int *tally[3], *lists_at;
    thread_scratch(run, thread, tally, &lists_at);
    ladder_t ladders[3];
    for (int l = 0; l < 3; l++) {
        int *at = lists_at + (size_t)l * 2 * slots;
        ladders[l] = (ladder_t){at, at + slots, 0};
    }
    gather_ladders(st, bb, d, ladders, tally);
    feature_target_t target = {&run->kernel->prior, &ladders[0], &ladders[2],
                               bb->b[d], 0};
    *a = bb->a[d];
    *b = bb->b[d];
    return slice_a_then_b(run, ladder_log_density, &target, &ladders[1], 1,
                          rng, a, b);
}

static int update_one_feature(void *ctx, int f, int thread,
                              parallel_pool_t *pool) {
    (void)pool;
    const feature_hp_run_t *run = ctx;
    block_t *blk;
    int d;
    const int feature = run->kernel->features[f];
    /* Features of the other blocks are sliced after the bb ones
     * (slice_other_blocks). */
    if (!feature_is_bb(run->st, feature, &blk, &d)) return MS_OK;
    rng_t rng;
    rng_seed(&rng, rng_derive_seed(run->master, (uint64_t)feature));
    double a, b;
    const int status =
        run->kernel->log_scale
            ? update_log_scale(run, bb_of(blk), d, thread, &rng, &a, &b)
            : update_linear(run, bb_of(blk), d, thread, &rng, &a, &b);
    set_bb_hp(blk, d, a, b);
    return status;
}

/* state_rebuild_tables, with the bb block's tables rebuilt on the
 * kernel's threads (the same bits). */
static int rebuild_tables(state_t *st, int threads) {
    const partition_view_t p = state_view(st);
    int status = MS_OK;
    for (int b = 0; b < st->n_blocks && status == MS_OK; b++) {
        block_t *blk = &st->blocks[b];
        if (blk->ops->kind == BLOCK_BETA_BERNOULLI)
            bb_rebuild_tables_threaded(bb_of(blk), &p, threads);
        else
            status = blk->ops->rebuild(blk, &p);
    }
    return status;
}

int kernel_slice_feature_hp(state_t *st, const kernel_t *kernel, rng_t *rng,
                            workspace_t *ws) {
    (void)ws;
    feature_hp_run_t run = {st, kernel, {kernel->width, FEATURE_HP_MAX_STEPS, 0, 0},
                            rng_next(rng), NULL, 0};
    prior_bounds(&kernel->prior, &run.options.lower, &run.options.upper);
    if (kernel->log_scale) {
        run.options.lower = log(run.options.lower);   /* log 0 = -inf */
        run.options.upper = log(run.options.upper);
    }
    int threads = kernel->threads > 1 ? kernel->threads : 1;
    if (threads > kernel->n_features) threads = kernel->n_features;
    if (threads < 1) threads = 1;
    const size_t map = (size_t)st->n + 1, slots = (size_t)st->n_active + 1;
    run.scratch_stride = 3 * map + 9 * slots;
    /* A few n ints per thread, allocated before any hyperparameter
     * changes; the position maps start at -1, the tallies at 0. */
    int *owned = ms_malloc(run.scratch_stride * (size_t)threads * sizeof(int));
    if (owned == NULL) return MS_ERR_NOMEM;
    for (int t = 0; t < threads; t++)
        for (size_t i = 0; i < 3 * map; i++)
            owned[(size_t)t * run.scratch_stride + i] =
                kernel->log_scale ? 0 : -1;
    run.scratch = owned;
    int status = parallel_for(kernel->n_features, threads, update_one_feature,
                              &run, NULL, NULL);
    free(owned);
    int others = 0;
    for (int f = 0; f < kernel->n_features && !others; f++)
        others = st->blocks[st->feature_block[kernel->features[f]]].ops->kind !=
                 BLOCK_BETA_BERNOULLI;
    if (status == MS_OK && others) {
        int *locals = ms_malloc((size_t)kernel->n_features * sizeof(int));
        status = locals ? slice_other_blocks(st, kernel, rng, locals)
                        : MS_ERR_NOMEM;
        free(locals);
    }
    const int rebuilt =
        rebuild_tables(st, kernel->threads > 1 ? kernel->threads : 1);
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

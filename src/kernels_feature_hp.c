#include <math.h>
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

/* Copies the nonzero counts of feature d over the active groups (heads,
 * tails or observed = heads + tails) into a contiguous array, so that the
 * slice sampler's many evaluations read them without striding. Returns how
 * many there are. */
static int gather_nonzero(const state_t *st, int d, int which, int *out) {
    int n = 0;
    for (int j = 0; j < st->n_active; j++) {
        const size_t at = (size_t)st->active[j] * st->D + d;
        const int c = which == HEADS   ? st->heads[at]
                      : which == TAILS ? st->tails[at]
                                       : st->heads[at] + st->tails[at];
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

int kernel_slice_feature_hp(state_t *st, const kernel_t *kernel, rng_t *rng,
                            workspace_t *ws) {
    slice_options_t options = {kernel->width, FEATURE_HP_MAX_STEPS, 0, 0};
    prior_bounds(&kernel->prior, &options.lower, &options.upper);
    int status = MS_OK;
    for (int j = 0; j < kernel->n_features && status == MS_OK; j++) {
        const int d = kernel->features[j];
        feature_target_t target = {&kernel->prior, ws->heads_of_feature, 0,
                                   ws->tails_of_feature, 0, st->b[d], 0};
        target.n_totals = gather_nonzero(st, d, OBSERVED, ws->tails_of_feature);
        target.n_moving = gather_nonzero(st, d, HEADS, ws->heads_of_feature);
        const double a = slice_sample(st->a[d], feature_log_density, &target,
                                      &options, rng, &status);
        double b = st->b[d];
        if (status == MS_OK) {
            target.n_moving = gather_nonzero(st, d, TAILS, ws->heads_of_feature);
            target.fixed = a;
            target.moving_b = 1;
            b = slice_sample(b, feature_log_density, &target, &options, rng,
                             &status);
        }
        state_set_feature_hp(st, d, a, b);
    }
    state_rebuild_tables(st);
    return status;
}

int kernel_grid_feature_hp(state_t *st, const kernel_t *kernel, rng_t *rng,
                           workspace_t *ws) {
    for (int j = 0; j < kernel->n_features; j++) {
        const int d = kernel->features[j];
        state_gather_feature_counts(st, d, ws->heads_of_feature,
                                    ws->tails_of_feature);
        for (int g = 0; g < kernel->n_grid; g++)
            ws->log_weights[g] =
                kernel->grid_log_weight[g] +
                score_feature(ws->heads_of_feature, ws->tails_of_feature,
                              st->n_active, kernel->grid_a[g],
                              kernel->grid_b[g]);
        const int g = rng_categorical_log(rng, ws->log_weights, kernel->n_grid,
                                          ws->weights);
        state_set_feature_hp(st, d, kernel->grid_a[g], kernel->grid_b[g]);
    }
    state_rebuild_tables(st);
    return MS_OK;
}

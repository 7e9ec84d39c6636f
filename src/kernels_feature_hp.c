#include <math.h>
#include "kernels.h"
#include "score.h"
#include "slice.h"
#include "status.h"

/* Stepping-out limit for one coordinate: with width 0.1 this reaches 10
 * units, far enough for the scale of beta hyperparameters seen in practice,
 * and stepping out stops earlier whenever the slice ends. */
#define FEATURE_HP_MAX_STEPS 100

typedef struct {
    const prior_t *prior;
    const int *heads, *tails;   /* this feature's counts over active groups */
    int n_groups;
    double a, b;                /* the current point */
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

static double feature_log_density(double x, void *context) {
    const feature_target_t *t = context;
    const double a = t->moving_b ? t->a : x, b = t->moving_b ? x : t->b;
    const double log_prior = feature_prior(t->prior, a, b);
    if (!isfinite(log_prior)) return -INFINITY;
    return log_prior + score_feature(t->heads, t->tails, t->n_groups, 1, a, b);
}

/* Copies feature d's counts over the active groups into contiguous arrays,
 * so the slice sampler's many evaluations read them without striding. */
static void gather_counts(const state_t *st, int d, workspace_t *ws) {
    for (int j = 0; j < st->n_active; j++) {
        const size_t at = (size_t)st->active[j] * st->D + d;
        ws->heads_of_feature[j] = st->heads[at];
        ws->tails_of_feature[j] = st->tails[at];
    }
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
        gather_counts(st, d, ws);
        feature_target_t target = {&kernel->prior, ws->heads_of_feature,
                                   ws->tails_of_feature, st->n_active,
                                   st->a[d], st->b[d], 0};
        target.a = slice_sample(target.a, feature_log_density, &target,
                                &options, rng, &status);
        target.moving_b = 1;
        if (status == MS_OK)
            target.b = slice_sample(target.b, feature_log_density, &target,
                                    &options, rng, &status);
        state_set_feature_hp(st, d, target.a, target.b);
    }
    state_rebuild_tables(st);
    return status;
}

int kernel_grid_feature_hp(state_t *st, const kernel_t *kernel, rng_t *rng,
                           workspace_t *ws) {
    for (int j = 0; j < kernel->n_features; j++) {
        const int d = kernel->features[j];
        gather_counts(st, d, ws);
        for (int g = 0; g < kernel->n_grid; g++)
            ws->log_weights[g] =
                kernel->grid_log_weight[g] +
                score_feature(ws->heads_of_feature, ws->tails_of_feature,
                              st->n_active, 1, kernel->grid_a[g],
                              kernel->grid_b[g]);
        const int g = rng_categorical_log(rng, ws->log_weights, kernel->n_grid,
                                          ws->weights);
        state_set_feature_hp(st, d, kernel->grid_a[g], kernel->grid_b[g]);
    }
    state_rebuild_tables(st);
    return MS_OK;
}

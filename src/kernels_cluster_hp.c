#include <math.h>
#include "kernels.h"
#include "log_gamma.h"
#include "slice.h"
#include "status.h"

/* Stepping-out limit (Neal's m): with the default width 1 one update can
 * move alpha by up to 256, and stepping out stops as soon as the slice
 * ends, so a concentrated posterior costs a few evaluations. */
#define CLUSTER_HP_MAX_STEPS 256

typedef struct {
    const prior_t *prior;
    int n, n_groups;
    const state_t *st;      /* finite mixture: the groups' sizes */
    int groups;             /* finite mixture: K */
} alpha_target_t;

/* log prior(alpha) + log CRP(partition | alpha), dropping the terms that do
 * not depend on alpha. */
static double alpha_log_density(double alpha, void *context) {
    const alpha_target_t *t = context;
    if (!(alpha > 0)) return -INFINITY;
    return prior_log_density(t->prior, alpha) + t->n_groups * log(alpha) +
           log_gamma(alpha) - log_gamma(alpha + t->n);
}

/* log prior(alpha) + log p(partition | alpha) of the finite mixture
 * (partition_prior.h), dropping log K!/(K - K+)!, which does not depend on
 * alpha: lgamma(alpha) - lgamma(alpha + n)
 *       + sum_k [lgamma(n_k + alpha/K) - lgamma(alpha/K)]. */
static double alpha_log_density_finite(double alpha, void *context) {
    const alpha_target_t *t = context;
    if (!(alpha > 0)) return -INFINITY;
    const state_t *st = t->st;
    const double share = alpha / t->groups, empty = log_gamma(share);
    double score = prior_log_density(t->prior, alpha) + log_gamma(alpha) -
                   log_gamma(alpha + t->n);
    for (int j = 0; j < st->n_active; j++)
        score += log_gamma(st->size[st->active[j]] + share) - empty;
    return score;
}

int kernel_slice_cluster_hp(state_t *st, const kernel_t *kernel, rng_t *rng,
                            const partition_prior_t *prior) {
    alpha_target_t target = {&kernel->prior, st->n, st->n_active, st,
                             prior->groups};
    slice_options_t options = {kernel->width, CLUSTER_HP_MAX_STEPS, 0.0,
                               INFINITY};
    int status = MS_OK;
    st->alpha = slice_sample(st->alpha,
                             prior->groups == 0 ? alpha_log_density
                                                : alpha_log_density_finite,
                             &target, &options, rng, &status);
    return status;
}

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
} alpha_target_t;

/* log prior(alpha) + log CRP(partition | alpha), dropping the terms that do
 * not depend on alpha. */
static double alpha_log_density(double alpha, void *context) {
    const alpha_target_t *t = context;
    if (!(alpha > 0)) return -INFINITY;
    return prior_log_density(t->prior, alpha) + t->n_groups * log(alpha) +
           log_gamma(alpha) - log_gamma(alpha + t->n);
}

int kernel_slice_cluster_hp(state_t *st, const kernel_t *kernel, rng_t *rng) {
    alpha_target_t target = {&kernel->prior, st->n, st->n_active};
    slice_options_t options = {kernel->width, CLUSTER_HP_MAX_STEPS, 0.0,
                               INFINITY};
    int status = MS_OK;
    st->alpha = slice_sample(st->alpha, alpha_log_density, &target, &options,
                             rng, &status);
    return status;
}

#include <math.h>
#include <stdlib.h>
#include "alloc.h"
#include "kernels_block_hp.h"
#include "slice.h"
#include "status.h"

/* Stepping-out limit (Neal's m), as the beta-Bernoulli slice kernel's
 * (kernels_feature_hp.c): with width w one update can move a coordinate by
 * up to m w. */
#define BLOCK_HP_MAX_STEPS 100

typedef struct {
    block_t *b;
    int j, c;
    double *hp;     /* the feature's vector; coordinate c is the variable */
    int on_log_scale;
} block_hp_target_t;

/* The target in the sliced variable u: h = exp(u) with the Jacobian
 * log dh/du = u for a positive coordinate, h = u otherwise. */
static double block_hp_log_density(double u, void *context) {
    const block_hp_target_t *t = context;
    const double x = t->on_log_scale ? exp(u) : u;
    const double log_prior = t->b->ops->hp_log_prior(t->b, t->j, t->c, x);
    if (!isfinite(log_prior)) return -INFINITY;
    const double saved = t->hp[t->c];
    t->hp[t->c] = x;
    const double log_marginal =
        t->b->ops->gathered_log_marginal(t->b, t->j, t->hp);
    t->hp[t->c] = saved;
    return log_prior + log_marginal + (t->on_log_scale ? u : 0.0);
}

/* A positive coordinate (support within [0, upper]) is sliced in u = log
 * h, so that `width` is a factor (e^width) whatever the data's units and
 * a scale parameter moving over decades is reached in a few steps; an
 * unbounded one in h itself, the width times the block's hp_scale. */
int slice_block_hp_coordinate(block_t *b, int j, int c, double *hp,
                              double width, rng_t *rng) {
    double lower, upper;
    b->ops->hp_support(b, j, c, &lower, &upper);
    const int on_log_scale = lower >= 0;
    slice_options_t options = {width, BLOCK_HP_MAX_STEPS, lower, upper};
    if (on_log_scale) {
        options.lower = lower > 0 ? log(lower) : -INFINITY;
        options.upper = log(upper);
    } else {
        options.width = width * b->ops->hp_scale(b, j, c);
    }
    block_hp_target_t target = {b, j, c, hp, on_log_scale};
    int status = MS_OK;
    const double u0 = on_log_scale ? log(hp[c]) : hp[c];
    const double u = slice_sample(u0, block_hp_log_density, &target,
                                  &options, rng, &status);
    if (status != MS_OK) return status;
    hp[c] = on_log_scale ? exp(u) : u;
    b->ops->set_hp(b, j, hp);
    return MS_OK;
}

int kernel_slice_block_hp(block_t *b, const partition_view_t *p,
                          const int *local_features, int n_features,
                          double width, rng_t *rng) {
    int longest = 1;
    for (int i = 0; i < n_features; i++) {
        const int j = local_features[i];
        const int n_hp = b->hp_offset[j + 1] - b->hp_offset[j];
        if (n_hp > longest) longest = n_hp;
    }
    double *hp = ms_malloc(sizeof(double) * longest);
    if (hp == NULL) return MS_ERR_NOMEM;
    int status = MS_OK;
    for (int i = 0; i < n_features && status == MS_OK; i++) {
        const int j = local_features[i];
        const int n_hp = b->hp_offset[j + 1] - b->hp_offset[j];
        for (int c = 0; c < n_hp; c++) hp[c] = b->hp[b->hp_offset[j] + c];
        b->ops->gather(b, p, j);
        for (int c = 0; c < n_hp && status == MS_OK; c++) {
            /* A kind may hold some coordinates fixed (block.h, hp_fixed):
             * skipped, they draw nothing, so the other kinds' chains are
             * unchanged. */
            if (b->ops->hp_fixed != NULL && b->ops->hp_fixed(b, j, c))
                continue;
            status = slice_block_hp_coordinate(b, j, c, hp, width, rng);
        }
    }
    free(hp);
    const int rebuilt = b->ops->rebuild(b, p);
    return status != MS_OK ? status : rebuilt;
}

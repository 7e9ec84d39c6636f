/* The hyperparameter kernel of the feature blocks other than
 * beta-Bernoulli (whose kernels live in kernels_feature_hp.c). */
#ifndef MICROSCOPES_KERNELS_BLOCK_HP_H
#define MICROSCOPES_KERNELS_BLOCK_HP_H

#include "block.h"
#include "rng.h"

/* Univariate slice sampling (Neal 2003, stepping out and shrinkage,
 * slice.h) of each hyperparameter coordinate of each listed local feature
 * in turn, on the partition held fixed. The target of coordinate c of
 * feature j is hp_log_prior(j, c) + gathered_log_marginal(j), the other
 * coordinates at their current values (b->hp is kept current, so a joint
 * prior may read them there); then ops->rebuild. `width` is the slice
 * sampler's initial interval width w: in log units for positive
 * coordinates (sliced in log h, Jacobian included), in units of the
 * block's hp_scale for unbounded ones, so that it means the same in any
 * data units (1 is a good default). Returns MS_OK, MS_ERR_NOMEM or
 * MS_ERR_NUMERIC (a current value outside its prior's support: the kernel
 * stops there, that feature and the later ones keep their values, and the
 * tables are rebuilt). */
int kernel_slice_block_hp(block_t *b, const partition_view_t *p,
                          const int *local_features, int n_features,
                          double width, rng_t *rng);

/* One slice update of coordinate c of local feature j, whose statistics
 * were gathered (ops->gather) and whose current vector is hp (updated in
 * place and through set_hp); tables are left stale. The kernel's step,
 * exposed for its stationarity test (tools/block_selftest.c). */
int slice_block_hp_coordinate(block_t *b, int j, int c, double *hp,
                              double width, rng_t *rng);

#endif

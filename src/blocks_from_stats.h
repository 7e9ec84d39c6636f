/* A feature block rebuilt from saved sufficient statistics, without data
 * rows: what a saved state's scores (score_data) and queries on a saved
 * state need (CONTRACT.md, "Mixed states"). */
#ifndef MICROSCOPES_BLOCKS_FROM_STATS_H
#define MICROSCOPES_BLOCKS_FROM_STATS_H

#include "block.h"

/* Builds block `b` of `kind` over the features described by `shape`
 * (n_features, n_levels for dd, parameter for bnb; no rows: shape->n may
 * be 0, and then the kind's data-centred default hyperpriors take their
 * no-data fallbacks, which no score reads) with hyperparameters hp laid
 * out by hp_offset, for K groups in slots 0..K-1: slot k of local feature j
 * gets stats[j][k + c * K], c = 0..n_stats(j) - 1 (an R K x n_stats
 * matrix), through set_stats. Returns MS_OK or the failure's status; on
 * failure b->ops->free(b) is safe. */
int block_from_stats(block_t *b, int kind, const block_data_t *shape,
                     const int *hp_offset, const double *hp, int K,
                     const double *const *stats);

/* The partition view of K groups in slots 0..K-1 of the given sizes (a
 * ghost at slot K), which the block's group_log_marginal reads. `sizes`:
 * K + 1 ints (the last 0, the ghost's); `active`: K ints of the
 * caller's. */
partition_view_t stats_partition_view(int K, const int *sizes, int *active);

#endif

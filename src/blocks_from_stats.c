/* Blocks from saved statistics (blocks_from_stats.h): block_init with no
 * rows, then every slot's statistics restored as saved (set_stats), so
 * that the block's closed-form marginals and predictives read exactly
 * what the sampler held (DECISIONS.md: real-valued statistics are saved
 * as the sampler holds them). */
#include <stdlib.h>
#include "alloc.h"
#include "blocks_from_stats.h"
#include "status.h"

int block_from_stats(block_t *b, int kind, const block_data_t *shape,
                     const int *hp_offset, const double *hp, int K,
                     const double *const *stats) {
    const int F = shape->n_features;
    int *ids = ms_malloc(sizeof(int) * (size_t)(F > 0 ? F : 1));
    if (ids == NULL) return MS_ERR_NOMEM;
    for (int j = 0; j < F; j++) ids[j] = j;
    /* One slot beyond the groups: a block always has room for a ghost. */
    int status = block_init(b, kind, shape, ids, hp_offset, hp, K + 1);
    free(ids);
    if (status != MS_OK) return status;
    double *one = NULL;
    for (int j = 0; j < F && status == MS_OK; j++) {
        const int m = b->ops->n_stats(b, j);
        double *grown = ms_realloc(one, sizeof(double) * (size_t)(m + 1));
        if (grown == NULL) {
            status = MS_ERR_NOMEM;
            break;
        }
        one = grown;
        for (int k = 0; k < K; k++) {
            for (int c = 0; c < m; c++) one[c] = stats[j][k + (size_t)c * K];
            b->ops->set_stats(b, k, j, one);
        }
    }
    free(one);
    return status;
}

partition_view_t stats_partition_view(int K, const int *sizes, int *active) {
    int n = 0;
    for (int k = 0; k < K; k++) {
        active[k] = k;
        n += sizes[k];
    }
    /* group_of_row is NULL: no rows; the marginals read statistics only. */
    partition_view_t p = {n, K + 1, K + 1, sizes, NULL, active, K, K};
    return p;
}

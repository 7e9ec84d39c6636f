/* Co-clustering frequencies and the contingency-table sums of the
 * least-squares point partition: see partition.h. */
#include <stddef.h>

#include "partition.h"
#include "status.h"

/* A unit is a block of columns: each column is written by one unit only,
 * and a block is long enough to repay taking it from the pool. */
#define ZMATRIX_COLUMNS_PER_UNIT 64

typedef struct {
    double *z;
    int n, n_states;
    const int *const *label;
    const double *weight;
} zmatrix_t;

static int zmatrix_columns(void *ctx, int unit, int thread,
                           parallel_pool_t *pool) {
    (void)thread;
    (void)pool;
    const zmatrix_t *zm = ctx;
    int n = zm->n;
    int j_end = (unit + 1) * ZMATRIX_COLUMNS_PER_UNIT;
    if (j_end > n) j_end = n;
    for (int j = unit * ZMATRIX_COLUMNS_PER_UNIT; j < j_end; j++) {
        double *col = zm->z + (size_t)j * n;
        for (int i = 0; i < n; i++) col[i] = 0.0;
        for (int s = 0; s < zm->n_states; s++) {
            double w = zm->weight[s];
            if (!(w > 0)) continue;
            const int *l = zm->label[s];
            int lj = l[j];
            for (int i = 0; i < n; i++) col[i] += (l[i] == lj) ? w : 0.0;
        }
    }
    return MS_OK;
}

int partition_zmatrix(double *z, int n, int n_states, const int *const *label,
                      const double *weight, int n_threads,
                      parallel_poll_fn poll, void *poll_ctx) {
    zmatrix_t zm = {z, n, n_states, label, weight};
    int n_units = (n + ZMATRIX_COLUMNS_PER_UNIT - 1) / ZMATRIX_COLUMNS_PER_UNIT;
    return parallel_for(n_units, n_threads, zmatrix_columns, &zm, poll,
                        poll_ctx);
}

double partition_pair_agreement(const int *u, const int *rows_by_v,
                                const int *v_start, int n_labels_v,
                                int *count) {
    long long total = 0;
    for (int l = 0; l < n_labels_v; l++) {
        /* (c + 1)^2 - c^2 = 2c + 1: the square of each cell grows as it fills */
        for (int r = v_start[l]; r < v_start[l + 1]; r++) {
            int c = count[u[rows_by_v[r]]]++;
            total += 2 * (long long)c + 1;
        }
        for (int r = v_start[l]; r < v_start[l + 1]; r++)
            count[u[rows_by_v[r]]] = 0;
    }
    return (double)total;
}

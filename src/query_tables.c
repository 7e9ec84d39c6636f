/* Building the per-state predictive tables: see query_tables.h. */
#include <float.h>
#include <math.h>

#include "query_tables.h"

size_t query_table_doubles(int K1, int D) {
    return (size_t)K1 * (2 + 3 * (size_t)D);
}

void query_table_build(query_table_t *tb, double *mem, const query_state_t *st,
                       int D) {
    int K = st->K, K1 = K + 1;
    size_t cells = (size_t)K1 * D;
    tb->K1 = K1;
    tb->log_w = mem;
    tb->base_off = mem + K1;
    tb->log_off = mem + 2 * (size_t)K1;
    tb->delta = tb->log_off + cells;
    tb->p_on = tb->delta + cells;

    if (st->groups == 0) {
        for (int k = 0; k < K; k++) tb->log_w[k] = log((double)st->size[k]);
        tb->log_w[K] = log(st->alpha);
    } else {
        /* The finite mixture's urn (partition_prior.h): n_k + alpha/G, and
         * (G - K) alpha/G for a new group, none once all G are in use. */
        const double share = st->alpha / st->groups;
        for (int k = 0; k < K; k++) tb->log_w[k] = log(st->size[k] + share);
        tb->log_w[K] = st->groups > K ? log((double)(st->groups - K)) + log(share)
                                      : -INFINITY;
    }
    for (int k = 0; k < K1; k++) tb->base_off[k] = 0.0;

    double p_min = 1.0;
    for (int d = 0; d < D; d++) {
        double a = st->hp[d], b = st->hp[d + D];
        double *loff = tb->log_off + (size_t)d * K1;
        double *dl = tb->delta + (size_t)d * K1;
        const int *h = st->heads + (size_t)d * K;
        const int *t = st->tails + (size_t)d * K;
        for (int k = 0; k < K1; k++) {
            double on = a + (k < K ? (double)h[k] : 0.0);
            double off = b + (k < K ? (double)t[k] : 0.0);
            double total = on + off;
            /* logs of ratios: two logs a cell, accurate when p is near 1 */
            loff[k] = log(off / total);
            dl[k] = log(on / off);
            tb->base_off[k] += loff[k];
            double p = on / total;
            tb->p_on[(size_t)k * D + d] = p;
            if (p < p_min) p_min = p;
        }
    }
    /* Every exact answer is sum_k w_k p_kd >= p_min (the weights sum to 1),
     * so dropping groups of weight < eps/2 * p_min / K1 moves it by less
     * than half an ulp: the sum stays exact to double precision but skips
     * the groups a row plainly does not belong to (most of them). */
    tb->negligible = 0.5 * DBL_EPSILON * p_min / K1;
}

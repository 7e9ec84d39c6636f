/* The non-conjugate operations of the bbnc block (block.h, issue 14):
 * auxiliary groups for Neal's (2000) algorithm 8 and the theta kernel's
 * exact Gibbs draw p | rows ~ Beta(alpha + heads, beta + tails), both as
 * draws of (log p, log(1 - p)) so that no p underflows (block_bbnc.h). */
#include <math.h>
#include <string.h>
#include "alloc.h"
#include "block_bbnc.h"
#include "rng_dist.h"
#include "status.h"

/* log of a Gamma(shape, 1) draw: for shape < 1 the boost of Marsaglia and
 * Tsang (2000, section 6), G(shape) = G(shape + 1) U^(1 / shape), taken in
 * logs, where the product itself would underflow. */
static double rng_log_gamma(rng_t *rng, double shape) {
    if (shape >= 1.0) return log(rng_gamma(rng, shape));
    const double log_boost = log(rng_unif(rng)) / shape;
    return log(rng_gamma(rng, shape + 1.0)) + log_boost;
}

/* p ~ Beta(a, c) as p = G_a / (G_a + G_c): out[1] = log p, out[0] =
 * log(1 - p), the layout of a slot's table. */
static void draw_log_beta(rng_t *rng, double a, double c, double *out) {
    const double ga = rng_log_gamma(rng, a), gc = rng_log_gamma(rng, c);
    const double top = ga > gc ? ga : gc;
    const double log_sum = top + log(exp(ga - top) + exp(gc - top));
    out[1] = ga - log_sum;
    out[0] = gc - log_sum;
}

int bbnc_reserve_auxiliary(block_t *b, int m) {
    bbnc_t *g = BBNC(b);
    if (m <= g->aux_capacity) return MS_OK;
    double *grown = ms_realloc(
        g->aux_table, sizeof(double) * 2 * (size_t)b->n_features * (size_t)m);
    if (grown == NULL) return MS_ERR_NOMEM;
    g->aux_table = grown;
    g->aux_capacity = m;
    return MS_OK;
}

void bbnc_draw_auxiliary(block_t *b, int a, rng_t *rng) {
    bbnc_t *g = BBNC(b);
    const int F = b->n_features;
    double *t = g->aux_table + (size_t)a * F * 2;
    for (int j = 0; j < F; j++)
        draw_log_beta(rng, b->hp[b->hp_offset[j]], b->hp[b->hp_offset[j] + 1],
                      t + 2 * j);
}

void bbnc_auxiliary_from_slot(block_t *b, int a, int k) {
    bbnc_t *g = BBNC(b);
    const size_t F = b->n_features;
    memcpy(g->aux_table + (size_t)a * F * 2, g->table + (size_t)k * F * 2,
           sizeof(double) * 2 * F);
}

void bbnc_score_auxiliary(block_t *b, int row, int m, double *scores,
                          int accumulate) {
    const bbnc_t *g = BBNC(b);
    const int F = b->n_features;
    const int cells = bbnc_gather_row(b, row);
    for (int a = 0; a < m; a++) {
        const double *t = g->aux_table + (size_t)a * F * 2;
        double s = 0.0;
        for (int i = 0; i < cells; i++) s += t[2 * g->row_j[i] + g->row_x[i]];
        scores[a] = accumulate ? scores[a] + s : s;
    }
}

void bbnc_adopt_auxiliary(block_t *b, int a, int k) {
    bbnc_t *g = BBNC(b);
    const size_t F = b->n_features;
    memcpy(g->table + (size_t)k * F * 2, g->aux_table + (size_t)a * F * 2,
           sizeof(double) * 2 * F);
    g->has_parameter[k] = 1;
}

void bbnc_draw_slot_parameters(block_t *b, const partition_view_t *p, int k,
                               rng_t *rng) {
    bbnc_t *g = BBNC(b);
    const int F = b->n_features;
    (void)p;
    for (int j = 0; j < F; j++) {
        const size_t at = (size_t)k * F + j;
        draw_log_beta(rng, b->hp[b->hp_offset[j]] + g->heads[at],
                      b->hp[b->hp_offset[j] + 1] + g->tails[at],
                      g->table + 2 * at);
    }
    g->has_parameter[k] = 1;
}

/* The beta-negative-binomial block (bnb): x | p ~ NegBin(r, p), the number
 * of failures before the r-th success, P(x | p) = C(x + r - 1, x) p^r
 * (1 - p)^x, with r > 0 fixed per feature and p ~ Beta(alpha, beta)
 * integrated out. After a group's n observed cells with sum s the
 * posterior is Beta(a = alpha + n r, c = beta + s) and the predictive is
 *   log p(x) = log C(x + r - 1, x) + log B(a + r, c + x) - log B(a, c)
 *            = L(x) + K + log prod_{i < x} (c + i) / (S + r + i),
 * with L(x) = log Gamma(x + r) - log Gamma(r) - log x! (the row's alone),
 * S = a + c and the slot constant
 *   K = log Gamma(a + r) - log Gamma(a) - log Gamma(S + r) + log Gamma(S).
 * Each slot caches c, S + r, K and the log products for x = 1 ..
 * BLOCK_RISING_CACHED per feature, and each feature L(x) for small x: a
 * score of a small count is look-ups only, of a larger one look-ups and one
 * log() of the ratio of the remaining products. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "block_kinds.h"
#include "block_util.h"
#include "rng_dist.h"
#include "status.h"

enum {
    BNB_C, BNB_SR, BNB_K, BNB_R1,
    BNB_TABLE = BNB_R1 + BLOCK_RISING_CACHED
};

/* L(x) is tabulated per feature for x below this. */
#define BNB_ROW_TABLE 64

/* The box of the default hyperprior, as prior_noninformative_beta()'s
 * default for beta-Bernoulli (R/kernels.R). */
#define BNB_PRIOR_LOWER 0.01
#define BNB_PRIOR_UPPER 1000.0

typedef struct {
    int capacity;
    int *count;         /* capacity x F observed cells */
    int64_t *sum;       /* capacity x F sum of the counts (exact) */
    double *log_comb;   /* capacity x F sum of L(x) (hp-free) */
    double *table;      /* capacity x F x BNB_TABLE */
    double *gathered;   /* capacity x 2: (n, s) of the active groups */
    int n_gathered;
    int *row_j, *row_x; /* F: the observed features of the row scored */
    double *log_gamma_r; /* F: log Gamma(r) */
    double *row_table;  /* F x BNB_ROW_TABLE: L(x) */
} bnb_t;

#define BNB(b) ((bnb_t *)(b)->impl)

static inline const double *bnb_hp(const block_t *b, int j) {
    return b->hp + b->hp_offset[j];
}

static inline double bnb_r(const block_t *b, int j) {
    return b->data.parameter[j];
}

static void bnb_slot_constants(double alpha, double beta, double r, double n,
                               double s, double *t) {
    const double a = alpha + n * r, c = beta + s, S = a + c;
    t[BNB_C] = c;
    t[BNB_SR] = S + r;
    t[BNB_K] = log_gamma(a + r) - log_gamma(a) - log_gamma(S + r) +
               log_gamma(S);
    double ratio = 0.0;
    for (int i = 0; i < BLOCK_RISING_CACHED; i++) {
        ratio += log((c + i) / (S + r + i));
        t[BNB_R1 + i] = ratio;
    }
}

/* log prod_{i < x} (c + i) / (S + r + i) from a slot's table, x >= 1. */
static inline double bnb_ratio(const double *t, int x) {
    if (x <= BLOCK_RISING_CACHED) return t[BNB_R1 + x - 1];
    return t[BNB_R1 + BLOCK_RISING_CACHED - 1] +
           block_log_rising_ratio(t[BNB_C] + BLOCK_RISING_CACHED,
                                  t[BNB_SR] + BLOCK_RISING_CACHED,
                                  x - BLOCK_RISING_CACHED);
}

static void bnb_refresh(block_t *b, int k, int j) {
    bnb_t *g = BNB(b);
    const size_t at = (size_t)k * b->n_features + j;
    const double *hp = bnb_hp(b, j);
    bnb_slot_constants(hp[0], hp[1], bnb_r(b, j), g->count[at],
                       (double)g->sum[at], g->table + at * BNB_TABLE);
}

static double bnb_row_constant(double r, double log_gamma_r, int x) {
    if (x == 0) return 0.0;
    return log_gamma(x + r) - log_gamma_r - log_gamma(x + 1.0);
}

static inline double bnb_row_term(const bnb_t *g, const block_t *b, int j,
                                  int x) {
    return x < BNB_ROW_TABLE
               ? g->row_table[(size_t)j * BNB_ROW_TABLE + x]
               : bnb_row_constant(b->data.parameter[j], g->log_gamma_r[j], x);
}

/* The predictive from a group's statistics (slow paths, reference). */
static double bnb_log_pred(const double *hp, double r, double n, double s,
                           int x) {
    double t[BNB_TABLE];
    bnb_slot_constants(hp[0], hp[1], r, n, s, t);
    return bnb_row_constant(r, log_gamma(r), x) + t[BNB_K] +
           block_log_rising_ratio(t[BNB_C], t[BNB_SR], x);
}

/* log B(alpha + n r, beta + s) - log B(alpha, beta): the feature's log
 * marginal without the hp-free sum of L(x). */
static double bnb_log_marginal_core(const double *hp, double r, double n,
                                    double s) {
    if (n == 0) return 0.0;
    return log_beta(hp[0] + n * r, hp[1] + s) - log_beta(hp[0], hp[1]);
}

static int bnb_grow(block_t *b, int old_capacity, int new_capacity) {
    bnb_t *g = BNB(b);
    const size_t F = b->n_features;
    (void)old_capacity;
    const size_t old = g->capacity;
    if ((size_t)new_capacity <= old) return MS_OK;
    if (block_grow_array((void **)&g->count, sizeof(int), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->sum, sizeof(int64_t), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->log_comb, sizeof(double), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->table, sizeof(double),
                         old * F * BNB_TABLE, new_capacity * F * BNB_TABLE) ||
        block_grow_array((void **)&g->gathered, sizeof(double), old * 2,
                         (size_t)new_capacity * 2))
        return MS_ERR_NOMEM;
    g->capacity = new_capacity;
    for (int k = (int)old; k < new_capacity; k++)
        for (int j = 0; j < b->n_features; j++) bnb_refresh(b, k, j);
    return MS_OK;
}

static void bnb_clear_slot(block_t *b, const partition_view_t *p, int k) {
    bnb_t *g = BNB(b);
    (void)p;
    for (int j = 0; j < b->n_features; j++) {
        const size_t at = (size_t)k * b->n_features + j;
        g->count[at] = 0;
        g->sum[at] = 0;
        g->log_comb[at] = 0.0;
        bnb_refresh(b, k, j);
    }
}

static void bnb_move(block_t *b, int row, int k, int sign) {
    bnb_t *g = BNB(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    for (int j = 0; j < F; j++) {
        if (x[j] == BLOCK_INT_NA) continue;
        const size_t at = (size_t)k * F + j;
        g->count[at] += sign;
        g->sum[at] += sign * (int64_t)x[j];
        if (g->count[at] == 0) g->log_comb[at] = 0.0;
        else
            g->log_comb[at] += sign * bnb_row_term(g, b, j, x[j]);
        bnb_refresh(b, k, j);
    }
}

static void bnb_add_row(block_t *b, const partition_view_t *p, int row,
                        int k) {
    (void)p;
    bnb_move(b, row, k, 1);
}

static void bnb_remove_row(block_t *b, const partition_view_t *p, int row,
                           int k) {
    (void)p;
    bnb_move(b, row, k, -1);
}

static inline double bnb_score_tables(const bnb_t *g, int F, int k,
                                      const int *row_j, const int *row_x,
                                      int m, double constant) {
    const double *t = g->table + (size_t)k * F * BNB_TABLE;
    double s = constant;
    for (int i = 0; i < m; i++) {
        const double *tj = t + (size_t)row_j[i] * BNB_TABLE;
        s += tj[BNB_K];
        if (row_x[i] > 0) s += bnb_ratio(tj, row_x[i]);
    }
    return s;
}

static void bnb_score_all(block_t *b, const partition_view_t *p, int row,
                          double *scores, int accumulate) {
    bnb_t *g = BNB(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    int m = 0;
    double constant = 0.0;
    for (int j = 0; j < F; j++) {
        if (x[j] == BLOCK_INT_NA) continue;
        g->row_j[m] = j;
        g->row_x[m] = x[j];
        constant += bnb_row_term(g, b, j, x[j]);
        m++;
    }
    for (int a = 0; a <= p->n_active; a++) {
        const int k = a < p->n_active ? p->active[a] : p->ghost;
        const double s =
            bnb_score_tables(g, F, k, g->row_j, g->row_x, m, constant);
        scores[k] = accumulate ? scores[k] + s : s;
    }
}

static double bnb_score_slot(const block_t *b, const partition_view_t *p,
                             int row, int k) {
    const bnb_t *g = BNB(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    const double *t = g->table + (size_t)k * F * BNB_TABLE;
    double s = 0.0;
    (void)p;
    for (int j = 0; j < F; j++) {
        if (x[j] == BLOCK_INT_NA) continue;
        const double *tj = t + (size_t)j * BNB_TABLE;
        s += bnb_row_term(g, b, j, x[j]) + tj[BNB_K];
        if (x[j] > 0) s += bnb_ratio(tj, x[j]);
    }
    return s;
}

static double bnb_score_slot_loo(const block_t *b, const partition_view_t *p,
                                 int row, int k) {
    const bnb_t *g = BNB(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    double s = 0.0;
    (void)p;
    for (int j = 0; j < F; j++) {
        if (x[j] == BLOCK_INT_NA) continue;
        const size_t at = (size_t)k * F + j;
        s += bnb_log_pred(bnb_hp(b, j), bnb_r(b, j), g->count[at] - 1.0,
                          (double)(g->sum[at] - x[j]), x[j]);
    }
    return s;
}

static double bnb_group_log_marginal(const block_t *b,
                                     const partition_view_t *p, int k) {
    const bnb_t *g = BNB(b);
    double s = 0.0;
    (void)p;
    for (int j = 0; j < b->n_features; j++) {
        const size_t at = (size_t)k * b->n_features + j;
        if (g->count[at] == 0) continue;
        s += bnb_log_marginal_core(bnb_hp(b, j), bnb_r(b, j), g->count[at],
                                   (double)g->sum[at]) +
             g->log_comb[at];
    }
    return s;
}

/* Every slot's tables, free ones included (the partition may offer any
 * free slot as the ghost): a feature's empty-group table is computed once,
 * in the first slot where the feature has no cell, and copied to the
 * others. */
static int bnb_rebuild(block_t *b, const partition_view_t *p) {
    bnb_t *g = BNB(b);
    const int F = b->n_features;
    (void)p;
    for (int j = 0; j < F; j++) {
        const double *empty = NULL;
        for (int k = 0; k < g->capacity; k++) {
            const size_t at = (size_t)k * F + j;
            if (g->count[at] > 0) {
                bnb_refresh(b, k, j);
            } else if (empty == NULL) {
                bnb_refresh(b, k, j);
                empty = g->table + at * BNB_TABLE;
            } else {
                memcpy(g->table + at * BNB_TABLE, empty,
                       sizeof(double) * BNB_TABLE);
            }
        }
    }
    return MS_OK;
}

static void bnb_set_hp(block_t *b, int j, const double *hp) {
    b->hp[b->hp_offset[j]] = hp[0];
    b->hp[b->hp_offset[j] + 1] = hp[1];
}

static void bnb_gather(block_t *b, const partition_view_t *p, int j) {
    bnb_t *g = BNB(b);
    int m = 0;
    for (int a = 0; a < p->n_active; a++) {
        const size_t at = (size_t)p->active[a] * b->n_features + j;
        if (g->count[at] == 0) continue;
        g->gathered[2 * m] = g->count[at];
        g->gathered[2 * m + 1] = (double)g->sum[at];
        m++;
    }
    g->n_gathered = m;
}

static double bnb_gathered_log_marginal(const block_t *b, int j,
                                        const double *hp) {
    const bnb_t *g = BNB(b);
    const double r = bnb_r(b, j);
    double s = 0.0;
    for (int m = 0; m < g->n_gathered; m++)
        s += bnb_log_marginal_core(hp, r, g->gathered[2 * m],
                                   g->gathered[2 * m + 1]);
    return s;
}

/* Default hyperprior (MODELS.md): p(alpha, beta) proportional to
 * (alpha + beta)^(-5/2) on [0.01, 1000]^2, beta-Bernoulli's default
 * (Gelman et al., BDA3, section 5.3: flat on the prior mean alpha / (alpha
 * + beta) and on (alpha + beta)^(-1/2)), bounded so that it is proper. The
 * density is joint: the coordinate not being sliced is read from b->hp,
 * which the slice kernel keeps current (kernels_block_hp.c). */
static double bnb_hp_log_prior(const block_t *b, int j, int c, double value) {
    const double other = b->hp[b->hp_offset[j] + 1 - c];
    if (!(value > BNB_PRIOR_LOWER && value < BNB_PRIOR_UPPER)) return -INFINITY;
    return -2.5 * log(value + other);
}

static void bnb_hp_support(const block_t *b, int j, int c, double *lower,
                           double *upper) {
    (void)b, (void)j, (void)c;
    *lower = BNB_PRIOR_LOWER;
    *upper = BNB_PRIOR_UPPER;
}

/* n, sum_x, sum of log C(x + r - 1, x). */
static int bnb_n_stats(const block_t *b, int j) {
    (void)b, (void)j;
    return 3;
}

static void bnb_get_stats(const block_t *b, int k, int j, double *out) {
    const bnb_t *g = BNB(b);
    const size_t at = (size_t)k * b->n_features + j;
    out[0] = g->count[at];
    out[1] = (double)g->sum[at];
    out[2] = g->log_comb[at];
}

static void bnb_set_stats(block_t *b, int k, int j, const double *in) {
    bnb_t *g = BNB(b);
    const size_t at = (size_t)k * b->n_features + j;
    g->count[at] = (int)in[0];
    g->sum[at] = (int64_t)in[1];
    g->log_comb[at] = in[2];
    bnb_refresh(b, k, j);
}

static int close_to(double a, double b) {
    return fabs(a - b) <= 1e-9 * (1.0 + fabs(a) + fabs(b));
}

static const char *bnb_check(const block_t *b, const partition_view_t *p) {
    static const char *const messages[] = {
        "bnb: a slot's count or sum differs from a recount",
        "bnb: a slot's sum of log C(x + r - 1, x) differs from a recount",
        "bnb: a slot's table differs from its statistics",
        "bnb: out of memory"};
    const bnb_t *g = BNB(b);
    const int F = b->n_features;
    const size_t cells = (size_t)p->slot_span * F;
    int *count = ms_calloc(cells + 1, sizeof(int));
    int64_t *sum = ms_calloc(cells + 1, sizeof(int64_t));
    double *log_comb = ms_calloc(cells + 1, sizeof(double));
    const char *problem = NULL;
    if (count == NULL || sum == NULL || log_comb == NULL) {
        problem = messages[3];
        goto done;
    }
    for (int i = 0; i < p->n; i++) {
        const int k = p->group_of_row[i];
        if (k < 0) continue;
        for (int j = 0; j < F; j++) {
            const int32_t x = b->data.ivalues[(size_t)i * F + j];
            if (x == BLOCK_INT_NA) continue;
            count[(size_t)k * F + j]++;
            sum[(size_t)k * F + j] += x;
            log_comb[(size_t)k * F + j] +=
                bnb_row_constant(bnb_r(b, j), g->log_gamma_r[j], x);
        }
    }
    for (int k = 0; k < p->slot_span && problem == NULL; k++)
        for (int j = 0; j < F && problem == NULL; j++) {
            const size_t at = (size_t)k * F + j;
            double t[BNB_TABLE];
            const double *hp = bnb_hp(b, j);
            if (count[at] != g->count[at] || sum[at] != g->sum[at]) {
                problem = messages[0];
                continue;
            }
            if (!close_to(log_comb[at], g->log_comb[at])) {
                problem = messages[1];
                continue;
            }
            bnb_slot_constants(hp[0], hp[1], bnb_r(b, j), count[at],
                               (double)sum[at], t);
            const double *mine = g->table + at * BNB_TABLE;
            for (int i = 0; i < BNB_TABLE; i++)
                if (!close_to(t[i], mine[i])) problem = messages[2];
        }
done:
    free(count);
    free(sum);
    free(log_comb);
    return problem;
}

static void bnb_free(block_t *b) {
    bnb_t *g = BNB(b);
    if (g != NULL) {
        free(g->count);
        free(g->sum);
        free(g->log_comb);
        free(g->table);
        free(g->gathered);
        free(g->row_j);
        free(g->row_x);
        free(g->log_gamma_r);
        free(g->row_table);
        free(g);
    }
    block_free_common(b);
}

static int bnb_cell_size(const block_t *b, int j) {
    (void)b, (void)j;
    return 1;
}

static double bnb_log_predictive(const block_t *b, int k, int j,
                                 const double *cell) {
    const bnb_t *g = BNB(b);
    const size_t at = (size_t)k * b->n_features + j;
    const double x = cell[0];
    if (!(x >= 0) || x != floor(x) || x > INT32_MAX) return -INFINITY;
    return bnb_log_pred(bnb_hp(b, j), bnb_r(b, j), g->count[at],
                        (double)g->sum[at], (int)x);
}

/* E[x] = E[r (1 - p) / p] = r c / (a - 1) under p ~ Beta(a, c); infinite
 * for a <= 1. */
static void bnb_predictive_mean(const block_t *b, int k, int j, double *out) {
    const bnb_t *g = BNB(b);
    const size_t at = (size_t)k * b->n_features + j;
    const double *hp = bnb_hp(b, j);
    const double r = bnb_r(b, j);
    const double a = hp[0] + g->count[at] * r, c = hp[1] + (double)g->sum[at];
    out[0] = a > 1 ? r * c / (a - 1) : INFINITY;
}

/* p = G1 / (G1 + G2) with G1 ~ Gamma(a), G2 ~ Gamma(c) is Beta(a, c); then
 * NegBin(r, p) is Poisson(lambda) with lambda ~ Gamma(r, scale (1 - p) /
 * p = G2 / G1), which never forms p itself (it may round to 1). */
static void bnb_sample_predictive(const block_t *b, int k, int j, rng_t *rng,
                                  double *out) {
    const bnb_t *g = BNB(b);
    const size_t at = (size_t)k * b->n_features + j;
    const double *hp = bnb_hp(b, j);
    const double r = bnb_r(b, j);
    const double g1 = rng_gamma(rng, hp[0] + g->count[at] * r);
    const double g2 = rng_gamma(rng, hp[1] + (double)g->sum[at]);
    out[0] = rng_poisson(rng, rng_gamma(rng, r) * g2 / g1);
}

/* Every coordinate is positive (sliced on the log scale): no unbounded
 * coordinate needs a scale. */
static double bnb_hp_scale(const block_t *b, int j, int c) {
    (void)b, (void)j, (void)c;
    return 1.0;
}

/* ---- the partition's bulk and group-level operations (block.h) ---- */

/* Slot compaction: the statistics and tables of `from` into `to`. */
static void bnb_copy_slot(block_t *b, const partition_view_t *p, int from,
                         int to) {
    bnb_t *g = BNB(b);
    (void)p;
    const size_t F = b->n_features;
    memcpy(g->count + (size_t)to * F, g->count + (size_t)from * F,
           F * sizeof(int));
    memcpy(g->sum + (size_t)to * F, g->sum + (size_t)from * F,
           F * sizeof(int64_t));
    memcpy(g->log_comb + (size_t)to * F, g->log_comb + (size_t)from * F,
           F * sizeof(double));
    memcpy(g->table + (size_t)to * F * BNB_TABLE,
           g->table + (size_t)from * F * BNB_TABLE,
           F * BNB_TABLE * sizeof(double));
}

/* The log marginal of slots k1 and k2 as one group: n, the sum and the
 * hp-free term add. */
static double bnb_merged_log_marginal(const block_t *b,
                                      const partition_view_t *p, int k1,
                                      int k2) {
    const bnb_t *g = BNB(b);
    (void)p;
    double s = 0.0;
    for (int j = 0; j < b->n_features; j++) {
        const size_t at1 = (size_t)k1 * b->n_features + j,
                     at2 = (size_t)k2 * b->n_features + j;
        const int n = g->count[at1] + g->count[at2];
        if (n == 0) continue;
        const double sum = (double)(g->sum[at1] + g->sum[at2]);
        s += bnb_log_marginal_core(bnb_hp(b, j), bnb_r(b, j), n, sum) + (g->log_comb[at1] + g->log_comb[at2]);
    }
    return s;
}

/* Every row counted into its slot, statistics only (rebuild follows). */
static void bnb_recount(block_t *b, const partition_view_t *p) {
    bnb_t *g = BNB(b);
    const int F = b->n_features;
    memset(g->count, 0, (size_t)g->capacity * F * sizeof(int));
    memset(g->sum, 0, (size_t)g->capacity * F * sizeof(int64_t));
    memset(g->log_comb, 0, (size_t)g->capacity * F * sizeof(double));
    for (int i = 0; i < p->n; i++) {
        const int k = p->group_of_row[i];
        const int32_t *x = b->data.ivalues + (size_t)i * F;
        for (int j = 0; j < F; j++) {
            if (x[j] == BLOCK_INT_NA) continue;
            const size_t at = (size_t)k * F + j;
            g->count[at]++;
            g->sum[at] += x[j];
            g->log_comb[at] += bnb_row_term(g, b, j, x[j]);
        }
    }
}

const block_ops_t block_bnb_ops = {
    .kind = BLOCK_BETA_NEGATIVE_BINOMIAL,
    .name = "bnb",
    .grow = bnb_grow,
    .clear_slot = bnb_clear_slot,
    .add_row = bnb_add_row,
    .remove_row = bnb_remove_row,
    .score_all = bnb_score_all,
    .score_slot = bnb_score_slot,
    .score_slot_loo = bnb_score_slot_loo,
    .group_log_marginal = bnb_group_log_marginal,
    .rebuild = bnb_rebuild,
    .set_hp = bnb_set_hp,
    .gather = bnb_gather,
    .gathered_log_marginal = bnb_gathered_log_marginal,
    .hp_log_prior = bnb_hp_log_prior,
    .hp_support = bnb_hp_support,
    .n_stats = bnb_n_stats,
    .get_stats = bnb_get_stats,
    .check = bnb_check,
    .free = bnb_free,
    .cell_size = bnb_cell_size,
    .log_predictive = bnb_log_predictive,
    .mean_size = bnb_cell_size,
    .predictive_mean = bnb_predictive_mean,
    .sample_predictive = bnb_sample_predictive,
    .hp_scale = bnb_hp_scale,
    .set_stats = bnb_set_stats,
    .copy_slot = bnb_copy_slot,
    .merged_log_marginal = bnb_merged_log_marginal,
    .recount = bnb_recount,
};

int block_bnb_setup(block_t *b, int capacity) {
    bnb_t *g = ms_calloc(1, sizeof(bnb_t));
    if (g == NULL) return MS_ERR_NOMEM;
    b->impl = g;
    const int F = b->n_features;
    g->row_j = ms_malloc(sizeof(int) * (F + 1));
    g->row_x = ms_malloc(sizeof(int) * (F + 1));
    g->log_gamma_r = ms_malloc(sizeof(double) * (F + 1));
    g->row_table = ms_malloc(sizeof(double) * BNB_ROW_TABLE * (F + 1));
    if (g->row_j == NULL || g->row_x == NULL || g->log_gamma_r == NULL ||
        g->row_table == NULL)
        return MS_ERR_NOMEM;
    for (int j = 0; j < F; j++) {
        g->log_gamma_r[j] = log_gamma(bnb_r(b, j));
        for (int x = 0; x < BNB_ROW_TABLE; x++)
            g->row_table[(size_t)j * BNB_ROW_TABLE + x] =
                bnb_row_constant(bnb_r(b, j), g->log_gamma_r[j], x);
    }
    return bnb_grow(b, 0, capacity > 0 ? capacity : 1);
}

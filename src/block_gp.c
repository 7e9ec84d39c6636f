/* The gamma-Poisson block (gp): x | lambda ~ Poisson(lambda), lambda ~
 * Gamma(shape alpha, scale inv_beta), lambda integrated out. After a group's
 * n observed cells with sum s the posterior is Gamma(shape a = alpha + s,
 * rate r = 1 / inv_beta + n), and the predictive is negative binomial
 * (Gelman et al., BDA3, section 2.6):
 *   log p(x) = log Gamma(a + x) - log Gamma(a) - log x!
 *              + a log(r / (r + 1)) - x log(r + 1).
 * Each slot caches a, a log(r / (r + 1)), log(r + 1) and log Gamma(a + x)
 * - log Gamma(a) for x = 1 .. BLOCK_RISING_CACHED per feature, so a score
 * of a small count is look-ups only, and of a larger one look-ups and the
 * log of the product (a + 8) ... (a + x - 1): one log(). log x! depends on
 * the row alone and is taken once per row, from a table. A move costs ten
 * logs per feature. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "block_kinds.h"
#include "block_util.h"
#include "rng_dist.h"
#include "status.h"

enum { GP_A, GP_C1, GP_C2, GP_R1, GP_TABLE = GP_R1 + BLOCK_RISING_CACHED };

typedef struct {
    int capacity;
    int *count;         /* capacity x F observed cells */
    int64_t *sum;       /* capacity x F sum of the counts (exact) */
    double *log_fact;   /* capacity x F sum of log x! (hp-free) */
    double *table;      /* capacity x F x GP_TABLE */
    double *gathered;   /* capacity x 2: (n, s) of the active groups */
    int n_gathered;
    int *row_j;         /* F: the observed features of the row scored */
    int *row_x;
    double *location;   /* F: column mean, for the inv_beta prior */
} gp_t;

#define GP(b) ((gp_t *)(b)->impl)

static inline const double *gp_hp(const block_t *b, int j) {
    return b->hp + b->hp_offset[j];
}

static void gp_refresh(block_t *b, int k, int j) {
    gp_t *g = GP(b);
    const size_t at = (size_t)k * b->n_features + j;
    const double *hp = gp_hp(b, j);
    const double a = hp[0] + (double)g->sum[at];
    const double r = 1.0 / hp[1] + g->count[at];
    double *t = g->table + at * GP_TABLE;
    t[GP_A] = a;
    t[GP_C1] = -a * log1p(1.0 / r);
    t[GP_C2] = log1p(r);
    double rising = 0.0;
    for (int i = 0; i < BLOCK_RISING_CACHED; i++) {
        rising += log(a + i);
        t[GP_R1 + i] = rising;
    }
}

/* log Gamma(a + x) - log Gamma(a) from a slot's table, x >= 1. */
static inline double gp_rising(const double *t, int x) {
    if (x <= BLOCK_RISING_CACHED) return t[GP_R1 + x - 1];
    return t[GP_R1 + BLOCK_RISING_CACHED - 1] +
           block_log_rising(t[GP_A] + BLOCK_RISING_CACHED,
                            x - BLOCK_RISING_CACHED);
}

/* The predictive from a group's statistics, for the slow paths
 * (score_slot_loo, log_predictive) and as the reference of the tables. */
static double gp_log_pred(const double *hp, double n, double s, int x) {
    const double a = hp[0] + s, r = 1.0 / hp[1] + n;
    return block_log_rising(a, x) - log_gamma(x + 1.0) - a * log1p(1.0 / r) -
           x * log1p(r);
}

/* Feature log marginal of n cells with sum s, without the hp-free
 * - sum log x! term: alpha log(1/inv_beta) - log Gamma(alpha) + log
 * Gamma(alpha + s) - (alpha + s) log(1/inv_beta + n). */
static double gp_log_marginal_core(const double *hp, double n, double s) {
    if (n == 0) return 0.0;
    const double alpha = hp[0], rate = 1.0 / hp[1];
    return alpha * log(rate) - log_gamma(alpha) + log_gamma(alpha + s) -
           (alpha + s) * log(rate + n);
}

static int gp_grow(block_t *b, int old_capacity, int new_capacity) {
    gp_t *g = GP(b);
    const size_t F = b->n_features;
    (void)old_capacity;
    const size_t old = g->capacity;
    if ((size_t)new_capacity <= old) return MS_OK;
    if (block_grow_array((void **)&g->count, sizeof(int), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->sum, sizeof(int64_t), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->log_fact, sizeof(double), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->table, sizeof(double),
                         old * F * GP_TABLE, new_capacity * F * GP_TABLE) ||
        block_grow_array((void **)&g->gathered, sizeof(double), old * 2,
                         (size_t)new_capacity * 2))
        return MS_ERR_NOMEM;
    g->capacity = new_capacity;
    for (int k = (int)old; k < new_capacity; k++)
        for (int j = 0; j < b->n_features; j++) gp_refresh(b, k, j);
    return MS_OK;
}

static void gp_clear_slot(block_t *b, const partition_view_t *p, int k) {
    gp_t *g = GP(b);
    (void)p;
    for (int j = 0; j < b->n_features; j++) {
        const size_t at = (size_t)k * b->n_features + j;
        g->count[at] = 0;
        g->sum[at] = 0;
        g->log_fact[at] = 0.0;
        gp_refresh(b, k, j);
    }
}

static void gp_move(block_t *b, int row, int k, int sign) {
    gp_t *g = GP(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    for (int j = 0; j < F; j++) {
        if (x[j] == BLOCK_INT_NA) continue;
        const size_t at = (size_t)k * F + j;
        g->count[at] += sign;
        g->sum[at] += sign * (int64_t)x[j];
        if (g->count[at] == 0) g->log_fact[at] = 0.0;
        else g->log_fact[at] += sign * block_log_factorial(x[j]);
        gp_refresh(b, k, j);
    }
}

static void gp_add_row(block_t *b, const partition_view_t *p, int row,
                       int k) {
    (void)p;
    gp_move(b, row, k, 1);
}

static void gp_remove_row(block_t *b, const partition_view_t *p, int row,
                          int k) {
    (void)p;
    gp_move(b, row, k, -1);
}

/* One slot's score of the row's observed cells (row_j, row_x, m of them),
 * from the tables; `constant` holds the row's - sum log x!. */
static inline double gp_score_tables(const gp_t *g, int F, int k,
                                     const int *row_j, const int *row_x,
                                     int m, double constant) {
    const double *t = g->table + (size_t)k * F * GP_TABLE;
    double s = constant;
    for (int i = 0; i < m; i++) {
        const double *tj = t + (size_t)row_j[i] * GP_TABLE;
        const int x = row_x[i];
        s += tj[GP_C1];
        if (x > 0) s += gp_rising(tj, x) - x * tj[GP_C2];
    }
    return s;
}

static void gp_score_all(block_t *b, const partition_view_t *p, int row,
                         double *scores, int accumulate) {
    gp_t *g = GP(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    int m = 0;
    double constant = 0.0;
    for (int j = 0; j < F; j++) {
        if (x[j] == BLOCK_INT_NA) continue;
        g->row_j[m] = j;
        g->row_x[m] = x[j];
        constant -= block_log_factorial(x[j]);
        m++;
    }
    for (int a = 0; a <= p->n_active; a++) {
        const int k = a < p->n_active ? p->active[a] : p->ghost;
        const double s =
            gp_score_tables(g, F, k, g->row_j, g->row_x, m, constant);
        scores[k] = accumulate ? scores[k] + s : s;
    }
}

static double gp_score_slot(const block_t *b, const partition_view_t *p,
                            int row, int k) {
    const gp_t *g = GP(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    const double *t = g->table + (size_t)k * F * GP_TABLE;
    double s = 0.0;
    (void)p;
    for (int j = 0; j < F; j++) {
        if (x[j] == BLOCK_INT_NA) continue;
        const double *tj = t + (size_t)j * GP_TABLE;
        s += tj[GP_C1] - x[j] * tj[GP_C2] - block_log_factorial(x[j]);
        if (x[j] > 0) s += gp_rising(tj, x[j]);
    }
    return s;
}

static double gp_score_slot_loo(const block_t *b, const partition_view_t *p,
                                int row, int k) {
    const gp_t *g = GP(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    double s = 0.0;
    (void)p;
    for (int j = 0; j < F; j++) {
        if (x[j] == BLOCK_INT_NA) continue;
        const size_t at = (size_t)k * F + j;
        s += gp_log_pred(gp_hp(b, j), g->count[at] - 1.0,
                         (double)(g->sum[at] - x[j]), x[j]);
    }
    return s;
}

static double gp_group_log_marginal(const block_t *b,
                                    const partition_view_t *p, int k) {
    const gp_t *g = GP(b);
    double s = 0.0;
    (void)p;
    for (int j = 0; j < b->n_features; j++) {
        const size_t at = (size_t)k * b->n_features + j;
        if (g->count[at] == 0) continue;
        s += gp_log_marginal_core(gp_hp(b, j), g->count[at],
                                  (double)g->sum[at]) -
             g->log_fact[at];
    }
    return s;
}

/* Every slot's tables, free ones included (the partition may offer any
 * free slot as the ghost): a feature's empty-group table is computed once,
 * in the first slot where the feature has no cell, and copied to the
 * others. */
static int gp_rebuild(block_t *b, const partition_view_t *p) {
    gp_t *g = GP(b);
    const int F = b->n_features;
    (void)p;
    for (int j = 0; j < F; j++) {
        const double *empty = NULL;
        for (int k = 0; k < g->capacity; k++) {
            const size_t at = (size_t)k * F + j;
            if (g->count[at] > 0) {
                gp_refresh(b, k, j);
            } else if (empty == NULL) {
                gp_refresh(b, k, j);
                empty = g->table + at * GP_TABLE;
            } else {
                memcpy(g->table + at * GP_TABLE, empty,
                       sizeof(double) * GP_TABLE);
            }
        }
    }
    return MS_OK;
}

static void gp_set_hp(block_t *b, int j, const double *hp) {
    b->hp[b->hp_offset[j]] = hp[0];
    b->hp[b->hp_offset[j] + 1] = hp[1];
}

static void gp_gather(block_t *b, const partition_view_t *p, int j) {
    gp_t *g = GP(b);
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

static double gp_gathered_log_marginal(const block_t *b, int j,
                                       const double *hp) {
    const gp_t *g = GP(b);
    double s = 0.0;
    (void)j;
    for (int m = 0; m < g->n_gathered; m++)
        s += gp_log_marginal_core(hp, g->gathered[2 * m],
                                  g->gathered[2 * m + 1]);
    return s;
}

/* Default hyperprior (MODELS.md), independent coordinates:
 *   alpha    ~ log-normal(log 1, 1.5^2)          (shape, unitless)
 *   inv_beta ~ log-normal(log m, 2^2), m = the column's observed mean (1
 *              when it is 0 or nothing is observed): the prior mean of a
 *              group's rate, alpha inv_beta, is then centred on the column.
 * Both proper, on (0, MS_MAX_HYPERPARAMETER). */
static double gp_hp_log_prior(const block_t *b, int j, int c, double value) {
    if (c == 0) return block_log_normal_prior(value, 1.0, 1.5);
    const double m = GP(b)->location[j];
    return block_log_normal_prior(value, m > 0 ? m : 1.0, 2.0);
}

static void gp_hp_support(const block_t *b, int j, int c, double *lower,
                          double *upper) {
    (void)b, (void)j, (void)c;
    block_positive_support(lower, upper);
}

/* n, sum_x, sum of log x! (datamicroscopes' gp statistics). */
static int gp_n_stats(const block_t *b, int j) {
    (void)b, (void)j;
    return 3;
}

static void gp_get_stats(const block_t *b, int k, int j, double *out) {
    const gp_t *g = GP(b);
    const size_t at = (size_t)k * b->n_features + j;
    out[0] = g->count[at];
    out[1] = (double)g->sum[at];
    out[2] = g->log_fact[at];
}

static void gp_set_stats(block_t *b, int k, int j, const double *in) {
    gp_t *g = GP(b);
    const size_t at = (size_t)k * b->n_features + j;
    g->count[at] = (int)in[0];
    g->sum[at] = (int64_t)in[1];
    g->log_fact[at] = in[2];
    gp_refresh(b, k, j);
}

static int close_to(double a, double b) {
    return fabs(a - b) <= 1e-9 * (1.0 + fabs(a) + fabs(b));
}

static const char *gp_check(const block_t *b, const partition_view_t *p) {
    static const char *const messages[] = {
        "gp: a slot's count or sum differs from a recount",
        "gp: a slot's sum of log x! differs from a recount",
        "gp: a slot's table differs from its statistics", "gp: out of memory"};
    const gp_t *g = GP(b);
    const int F = b->n_features;
    const size_t cells = (size_t)p->slot_span * F;
    int *count = ms_calloc(cells + 1, sizeof(int));
    int64_t *sum = ms_calloc(cells + 1, sizeof(int64_t));
    double *log_fact = ms_calloc(cells + 1, sizeof(double));
    const char *problem = NULL;
    if (count == NULL || sum == NULL || log_fact == NULL) {
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
            log_fact[(size_t)k * F + j] += block_log_factorial(x);
        }
    }
    for (int k = 0; k < p->slot_span && problem == NULL; k++)
        for (int j = 0; j < F && problem == NULL; j++) {
            const size_t at = (size_t)k * F + j;
            if (count[at] != g->count[at] || sum[at] != g->sum[at])
                problem = messages[0];
            else if (!close_to(log_fact[at], g->log_fact[at]))
                problem = messages[1];
            else {
                const double *hp = gp_hp(b, j);
                const double *t = g->table + at * GP_TABLE;
                const double a = hp[0] + (double)sum[at];
                const double r = 1.0 / hp[1] + count[at];
                if (!close_to(t[GP_A], a) ||
                    !close_to(t[GP_C1], -a * log1p(1.0 / r)) ||
                    !close_to(t[GP_C2], log1p(r)))
                    problem = messages[2];
                for (int i = 0; i < BLOCK_RISING_CACHED; i++)
                    if (!close_to(t[GP_R1 + i], block_log_rising(a, i + 1)))
                        problem = messages[2];
            }
        }
done:
    free(count);
    free(sum);
    free(log_fact);
    return problem;
}

static void gp_free(block_t *b) {
    gp_t *g = GP(b);
    if (g != NULL) {
        free(g->count);
        free(g->sum);
        free(g->log_fact);
        free(g->table);
        free(g->gathered);
        free(g->row_j);
        free(g->row_x);
        free(g->location);
        free(g);
    }
    block_free_common(b);
}

static int gp_cell_size(const block_t *b, int j) {
    (void)b, (void)j;
    return 1;
}

static double gp_log_predictive(const block_t *b, int k, int j,
                                const double *cell) {
    const gp_t *g = GP(b);
    const size_t at = (size_t)k * b->n_features + j;
    const double x = cell[0];
    if (!(x >= 0) || x != floor(x) || x > INT32_MAX) return -INFINITY;
    return gp_log_pred(gp_hp(b, j), g->count[at], (double)g->sum[at],
                       (int)x);
}

/* E[x] = a / r, the posterior mean of lambda. */
static void gp_predictive_mean(const block_t *b, int k, int j, double *out) {
    const gp_t *g = GP(b);
    const size_t at = (size_t)k * b->n_features + j;
    const double *hp = gp_hp(b, j);
    out[0] = (hp[0] + (double)g->sum[at]) / (1.0 / hp[1] + g->count[at]);
}

/* lambda ~ Gamma(a, rate r), then x ~ Poisson(lambda). */
static void gp_sample_predictive(const block_t *b, int k, int j, rng_t *rng,
                                 double *out) {
    const gp_t *g = GP(b);
    const size_t at = (size_t)k * b->n_features + j;
    const double *hp = gp_hp(b, j);
    const double a = hp[0] + (double)g->sum[at];
    const double r = 1.0 / hp[1] + g->count[at];
    out[0] = rng_poisson(rng, rng_gamma(rng, a) / r);
}

/* Every coordinate is positive (sliced on the log scale): no unbounded
 * coordinate needs a scale. */
static double gp_hp_scale(const block_t *b, int j, int c) {
    (void)b, (void)j, (void)c;
    return 1.0;
}

/* ---- the partition's bulk and group-level operations (block.h) ---- */

/* Slot compaction: the statistics and tables of `from` into `to`. */
static void gp_copy_slot(block_t *b, const partition_view_t *p, int from,
                         int to) {
    gp_t *g = GP(b);
    (void)p;
    const size_t F = b->n_features;
    memcpy(g->count + (size_t)to * F, g->count + (size_t)from * F,
           F * sizeof(int));
    memcpy(g->sum + (size_t)to * F, g->sum + (size_t)from * F,
           F * sizeof(int64_t));
    memcpy(g->log_fact + (size_t)to * F, g->log_fact + (size_t)from * F,
           F * sizeof(double));
    memcpy(g->table + (size_t)to * F * GP_TABLE,
           g->table + (size_t)from * F * GP_TABLE,
           F * GP_TABLE * sizeof(double));
}

/* The log marginal of slots k1 and k2 as one group: n, the sum and the
 * hp-free term add. */
static double gp_merged_log_marginal(const block_t *b,
                                      const partition_view_t *p, int k1,
                                      int k2) {
    const gp_t *g = GP(b);
    (void)p;
    double s = 0.0;
    for (int j = 0; j < b->n_features; j++) {
        const size_t at1 = (size_t)k1 * b->n_features + j,
                     at2 = (size_t)k2 * b->n_features + j;
        const int n = g->count[at1] + g->count[at2];
        if (n == 0) continue;
        const double sum = (double)(g->sum[at1] + g->sum[at2]);
        s += gp_log_marginal_core(gp_hp(b, j), n, sum) - (g->log_fact[at1] + g->log_fact[at2]);
    }
    return s;
}

/* Every row counted into its slot, statistics only (rebuild follows). */
static void gp_recount(block_t *b, const partition_view_t *p) {
    gp_t *g = GP(b);
    const int F = b->n_features;
    memset(g->count, 0, (size_t)g->capacity * F * sizeof(int));
    memset(g->sum, 0, (size_t)g->capacity * F * sizeof(int64_t));
    memset(g->log_fact, 0, (size_t)g->capacity * F * sizeof(double));
    for (int i = 0; i < p->n; i++) {
        const int k = p->group_of_row[i];
        const int32_t *x = b->data.ivalues + (size_t)i * F;
        for (int j = 0; j < F; j++) {
            if (x[j] == BLOCK_INT_NA) continue;
            const size_t at = (size_t)k * F + j;
            g->count[at]++;
            g->sum[at] += x[j];
            g->log_fact[at] += block_log_factorial(x[j]);
        }
    }
}

const block_ops_t block_gp_ops = {
    .kind = BLOCK_GAMMA_POISSON,
    .name = "gp",
    .grow = gp_grow,
    .clear_slot = gp_clear_slot,
    .add_row = gp_add_row,
    .remove_row = gp_remove_row,
    .score_all = gp_score_all,
    .score_slot = gp_score_slot,
    .score_slot_loo = gp_score_slot_loo,
    .group_log_marginal = gp_group_log_marginal,
    .rebuild = gp_rebuild,
    .set_hp = gp_set_hp,
    .gather = gp_gather,
    .gathered_log_marginal = gp_gathered_log_marginal,
    .hp_log_prior = gp_hp_log_prior,
    .hp_support = gp_hp_support,
    .n_stats = gp_n_stats,
    .get_stats = gp_get_stats,
    .check = gp_check,
    .free = gp_free,
    .cell_size = gp_cell_size,
    .log_predictive = gp_log_predictive,
    .mean_size = gp_cell_size,
    .predictive_mean = gp_predictive_mean,
    .sample_predictive = gp_sample_predictive,
    .hp_scale = gp_hp_scale,
    .set_stats = gp_set_stats,
    .copy_slot = gp_copy_slot,
    .merged_log_marginal = gp_merged_log_marginal,
    .recount = gp_recount,
};

int block_gp_setup(block_t *b, int capacity) {
    gp_t *g = ms_calloc(1, sizeof(gp_t));
    if (g == NULL) return MS_ERR_NOMEM;
    b->impl = g;
    block_fill_log_factorials();
    const int F = b->n_features;
    g->row_j = ms_malloc(sizeof(int) * (F + 1));
    g->row_x = ms_malloc(sizeof(int) * (F + 1));
    g->location = ms_malloc(sizeof(double) * (F + 1));
    if (g->row_j == NULL || g->row_x == NULL || g->location == NULL)
        return MS_ERR_NOMEM;
    for (int j = 0; j < F; j++) {
        double scale;
        block_column_location_scale(&b->data, j, &g->location[j], &scale);
    }
    return gp_grow(b, 0, capacity > 0 ? capacity : 1);
}

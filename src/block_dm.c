/* The Dirichlet-multinomial block (dm, issue 14): a feature's cell is a
 * vector x of k counts (k = the feature's cell_width, block.h), with
 * x | theta ~ Multinomial(m = sum_l x_l, theta) and theta ~
 * Dirichlet(alphas), theta integrated out. With c_l the group's summed
 * counts at level l, C = sum_l c_l and A = sum_l alphas_l:
 *   predictive  log p(x) = log(m! / prod_l x_l!)
 *               + log Gamma(A + C) - log Gamma(A + C + m)
 *               + sum_l [log Gamma(alphas_l + c_l + x_l)
 *                        - log Gamma(alphas_l + c_l)],
 *   marginal    sum over the group's rows of log(m! / prod_l x_l!)
 *               + log Gamma(A) - log Gamma(A + C)
 *               + sum_l [log Gamma(alphas_l + c_l) - log Gamma(alphas_l)].
 * The multinomial coefficient does not depend on the group: each row's is
 * computed once (setup) and a slot keeps the sum over its rows (so that
 * group marginals are full log densities, as gp keeps sum log x!).
 *
 * A cell is missing (left out of every term) when its first count is
 * BLOCK_INT_NA; the R side refuses a partly missing cell (R/columns.R).
 *
 * Each slot caches alphas_l + c_l per level and A + C per feature as
 * doubles: a score is one product of rising factorials over the row's
 * counts and one log (block_util.h), a move k + 1 additions per feature. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "block_kinds.h"
#include "block_util.h"
#include "rng_dist.h"
#include "status.h"

typedef struct {
    int capacity;
    int n_levels_total;     /* L = sum of the features' k */
    int max_levels;
    int *level_offset;      /* F + 1: feature j's levels (and packed
                             * columns) at level_offset[j].. */
    int64_t *level_count;   /* capacity x L: c_l */
    int64_t *total;         /* capacity x F: C */
    int *count;             /* capacity x F: observed cells (rows) */
    double *log_coef;       /* capacity x F: sum of log(m! / prod x_l!) */
    double *shifted;        /* capacity x L: alphas_l + c_l */
    double *shifted_total;  /* capacity x F: A + C */
    double *alpha_sum;      /* F: A */
    int *row_total;         /* n x F: m of each row's cell, -1 missing */
    double *row_log_coef;   /* n x F: log(m! / prod x_l!) */
    int64_t *gathered;      /* capacity x (max_levels + 1): c_l, C */
    int n_gathered;
} dm_t;

#define DM(b) ((dm_t *)(b)->impl)

static inline const double *dm_hp(const block_t *b, int j) {
    return b->hp + b->hp_offset[j];
}

static inline int dm_k(const block_t *b, int j) {
    return b->data.cell_width[j];
}

static inline const int32_t *dm_cell(const block_t *b, int row, int j) {
    return b->data.ivalues + (size_t)row * b->data.n_columns +
           DM(b)->level_offset[j];
}

/* log prod_l [(s_l)(s_l + 1)..(s_l + x_l - 1)] / [(S)(S + 1)..(S + m - 1)]:
 * the Dirichlet-multinomial ratio of Gamma functions, as products
 * renormalised before they over- or underflow, one log at the end; counts
 * above BLOCK_RISING_PRODUCT_MAX go through log Gamma instead. */
static double dm_log_ratio(const double *s, const int32_t *x, int k, double S,
                           int m) {
    if (m > BLOCK_RISING_PRODUCT_MAX) {
        double r = log_gamma(S) - log_gamma(S + m);
        for (int l = 0; l < k; l++)
            if (x[l] > 0) r += block_log_rising(s[l], x[l]);
        return r;
    }
    double num = 1.0, den = 1.0, sum = 0.0;
    for (int l = 0; l < k; l++) {
        for (int i = 0; i < x[l]; i++) {
            num *= s[l] + i;
            if (num > 1e280 || num < 1e-280) {
                sum += log(num);
                num = 1.0;
            }
        }
    }
    for (int i = 0; i < m; i++) {
        den *= S + i;
        if (den > 1e280) {
            sum -= log(den);
            den = 1.0;
        }
    }
    return sum + log(num / den);
}

/* Group marginal of one feature without the coefficients. */
static double dm_log_marginal_core(const double *alphas, double alpha_sum,
                                   const int64_t *c, int k, int64_t C) {
    double s = log_gamma(alpha_sum) - log_gamma(alpha_sum + (double)C);
    for (int l = 0; l < k; l++)
        if (c[l] > 0)
            s += log_gamma(alphas[l] + (double)c[l]) - log_gamma(alphas[l]);
    return s;
}

static void dm_refresh_feature(block_t *b, int k, int j) {
    dm_t *g = DM(b);
    const double *alphas = dm_hp(b, j);
    const size_t base = (size_t)k * g->n_levels_total + g->level_offset[j];
    for (int l = 0; l < dm_k(b, j); l++)
        g->shifted[base + l] = alphas[l] + (double)g->level_count[base + l];
    const size_t at = (size_t)k * b->n_features + j;
    g->shifted_total[at] = g->alpha_sum[j] + (double)g->total[at];
}

static int dm_grow(block_t *b, int old_capacity, int new_capacity) {
    dm_t *g = DM(b);
    const size_t F = b->n_features, L = g->n_levels_total;
    const size_t M = g->max_levels + 1;
    (void)old_capacity;
    const size_t old = g->capacity;
    if ((size_t)new_capacity <= old) return MS_OK;
    if (block_grow_array((void **)&g->level_count, sizeof(int64_t), old * L,
                         new_capacity * L) ||
        block_grow_array((void **)&g->total, sizeof(int64_t), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->count, sizeof(int), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->log_coef, sizeof(double), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->shifted, sizeof(double), old * L,
                         new_capacity * L) ||
        block_grow_array((void **)&g->shifted_total, sizeof(double), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->gathered, sizeof(int64_t), old * M,
                         new_capacity * M))
        return MS_ERR_NOMEM;
    g->capacity = new_capacity;
    for (int k = (int)old; k < new_capacity; k++)
        for (int j = 0; j < b->n_features; j++) dm_refresh_feature(b, k, j);
    return MS_OK;
}

static void dm_clear_slot(block_t *b, const partition_view_t *p, int k) {
    dm_t *g = DM(b);
    (void)p;
    for (int j = 0; j < b->n_features; j++) {
        const size_t base =
            (size_t)k * g->n_levels_total + g->level_offset[j];
        for (int l = 0; l < dm_k(b, j); l++) g->level_count[base + l] = 0;
        const size_t at = (size_t)k * b->n_features + j;
        g->total[at] = 0;
        g->count[at] = 0;
        g->log_coef[at] = 0.0;
        dm_refresh_feature(b, k, j);
    }
}

/* Counts row into (sign 1) or out of (sign -1) slot k, statistics only. */
static void dm_count_row(block_t *b, int row, int k, int sign) {
    dm_t *g = DM(b);
    const int F = b->n_features;
    for (int j = 0; j < F; j++) {
        const size_t r = (size_t)row * F + j;
        if (g->row_total[r] < 0) continue;
        const int32_t *x = dm_cell(b, row, j);
        const size_t base =
            (size_t)k * g->n_levels_total + g->level_offset[j];
        for (int l = 0; l < dm_k(b, j); l++)
            g->level_count[base + l] += sign * (int64_t)x[l];
        const size_t at = (size_t)k * F + j;
        g->total[at] += sign * (int64_t)g->row_total[r];
        g->count[at] += sign;
        if (g->count[at] == 0) g->log_coef[at] = 0.0;
        else g->log_coef[at] += sign * g->row_log_coef[r];
    }
}

static void dm_move(block_t *b, int row, int k, int sign) {
    dm_count_row(b, row, k, sign);
    for (int j = 0; j < b->n_features; j++)
        if (DM(b)->row_total[(size_t)row * b->n_features + j] >= 0)
            dm_refresh_feature(b, k, j);
}

static void dm_add_row(block_t *b, const partition_view_t *p, int row,
                       int k) {
    (void)p;
    dm_move(b, row, k, 1);
}

static void dm_remove_row(block_t *b, const partition_view_t *p, int row,
                          int k) {
    (void)p;
    dm_move(b, row, k, -1);
}

static double dm_score_slot(const block_t *b, const partition_view_t *p,
                            int row, int k) {
    const dm_t *g = DM(b);
    const int F = b->n_features;
    double s = 0.0;
    (void)p;
    for (int j = 0; j < F; j++) {
        const size_t r = (size_t)row * F + j;
        const int m = g->row_total[r];
        if (m < 0) continue;
        s += g->row_log_coef[r] +
             dm_log_ratio(g->shifted + (size_t)k * g->n_levels_total +
                              g->level_offset[j],
                          dm_cell(b, row, j), dm_k(b, j),
                          g->shifted_total[(size_t)k * F + j], m);
    }
    return s;
}

static void dm_score_all(block_t *b, const partition_view_t *p, int row,
                         double *scores, int accumulate) {
    for (int a = 0; a <= p->n_active; a++) {
        const int k = a < p->n_active ? p->active[a] : p->ghost;
        const double s = dm_score_slot(b, p, row, k);
        scores[k] = accumulate ? scores[k] + s : s;
    }
}

/* The row counted in k: its own counts taken off the shifted values. */
static double dm_score_slot_loo(const block_t *b, const partition_view_t *p,
                                int row, int k) {
    const dm_t *g = DM(b);
    const int F = b->n_features;
    double s = 0.0;
    (void)p;
    for (int j = 0; j < F; j++) {
        const size_t r = (size_t)row * F + j;
        const int m = g->row_total[r];
        if (m < 0) continue;
        const int32_t *x = dm_cell(b, row, j);
        const double *alphas = dm_hp(b, j);
        const int64_t *c = g->level_count + (size_t)k * g->n_levels_total +
                           g->level_offset[j];
        double t = log_gamma(g->shifted_total[(size_t)k * F + j] - m) -
                   log_gamma(g->shifted_total[(size_t)k * F + j]);
        for (int l = 0; l < dm_k(b, j); l++)
            if (x[l] > 0)
                t += block_log_rising(alphas[l] + (double)(c[l] - x[l]), x[l]);
        s += g->row_log_coef[r] + t;
    }
    return s;
}

static double dm_group_log_marginal(const block_t *b,
                                    const partition_view_t *p, int k) {
    const dm_t *g = DM(b);
    double s = 0.0;
    (void)p;
    for (int j = 0; j < b->n_features; j++) {
        const size_t at = (size_t)k * b->n_features + j;
        if (g->count[at] == 0) continue;
        s += g->log_coef[at] +
             dm_log_marginal_core(
                 dm_hp(b, j), g->alpha_sum[j],
                 g->level_count + (size_t)k * g->n_levels_total +
                     g->level_offset[j],
                 dm_k(b, j), g->total[at]);
    }
    return s;
}

static int dm_rebuild(block_t *b, const partition_view_t *p) {
    (void)p;
    for (int k = 0; k < DM(b)->capacity; k++)
        for (int j = 0; j < b->n_features; j++) dm_refresh_feature(b, k, j);
    return MS_OK;
}

static void dm_set_hp(block_t *b, int j, const double *hp) {
    double total = 0.0;
    for (int l = 0; l < dm_k(b, j); l++) {
        b->hp[b->hp_offset[j] + l] = hp[l];
        total += hp[l];
    }
    DM(b)->alpha_sum[j] = total;
}

static void dm_gather(block_t *b, const partition_view_t *p, int j) {
    dm_t *g = DM(b);
    const int k_j = dm_k(b, j), M = g->max_levels + 1;
    int m = 0;
    for (int a = 0; a < p->n_active; a++) {
        const int k = p->active[a];
        const size_t at = (size_t)k * b->n_features + j;
        if (g->count[at] == 0) continue;
        int64_t *out = g->gathered + (size_t)m * M;
        const int64_t *c = g->level_count + (size_t)k * g->n_levels_total +
                           g->level_offset[j];
        for (int l = 0; l < k_j; l++) out[l] = c[l];
        out[k_j] = g->total[at];
        m++;
    }
    g->n_gathered = m;
}

/* The coefficients do not depend on alphas: left out. */
static double dm_gathered_log_marginal(const block_t *b, int j,
                                       const double *hp) {
    const dm_t *g = DM(b);
    const int k_j = dm_k(b, j), M = g->max_levels + 1;
    double alpha_sum = 0.0, s = 0.0;
    for (int l = 0; l < k_j; l++) alpha_sum += hp[l];
    for (int m = 0; m < g->n_gathered; m++) {
        const int64_t *c = g->gathered + (size_t)m * M;
        s += dm_log_marginal_core(hp, alpha_sum, c, k_j, c[k_j]);
    }
    return s;
}

/* Default hyperprior (?models): each alphas_l independently
 * log-normal(log 1, 1.5^2), as dd's: proper, median 1 (the uniform
 * Dirichlet), on (0, MS_MAX_HYPERPARAMETER). */
static double dm_hp_log_prior(const block_t *b, int j, int c, double value) {
    (void)b, (void)j, (void)c;
    return block_log_normal_prior(value, 1.0, 1.5);
}

static void dm_hp_support(const block_t *b, int j, int c, double *lower,
                          double *upper) {
    (void)b, (void)j, (void)c;
    block_positive_support(lower, upper);
}

/* n (rows counted), the k level sums, sum of log multinomial coefficients. */
static int dm_n_stats(const block_t *b, int j) { return dm_k(b, j) + 2; }

static void dm_get_stats(const block_t *b, int k, int j, double *out) {
    const dm_t *g = DM(b);
    const size_t at = (size_t)k * b->n_features + j;
    const int64_t *c =
        g->level_count + (size_t)k * g->n_levels_total + g->level_offset[j];
    out[0] = g->count[at];
    for (int l = 0; l < dm_k(b, j); l++) out[1 + l] = (double)c[l];
    out[1 + dm_k(b, j)] = g->log_coef[at];
}

static void dm_set_stats(block_t *b, int k, int j, const double *in) {
    dm_t *g = DM(b);
    const size_t at = (size_t)k * b->n_features + j;
    int64_t *c = g->level_count + (size_t)k * g->n_levels_total +
                 g->level_offset[j];
    int64_t total = 0;
    g->count[at] = (int)in[0];
    for (int l = 0; l < dm_k(b, j); l++) {
        c[l] = (int64_t)in[1 + l];
        total += c[l];
    }
    g->total[at] = total;
    g->log_coef[at] = in[1 + dm_k(b, j)];
    dm_refresh_feature(b, k, j);
}

static int close_to(double a, double b) {
    return fabs(a - b) <= 1e-9 * (1.0 + fabs(a) + fabs(b));
}

static const char *dm_check(const block_t *b, const partition_view_t *p) {
    static const char *const messages[] = {
        "dm: a slot's counts differ from a recount",
        "dm: a slot's table differs from its counts", "dm: out of memory"};
    const dm_t *g = DM(b);
    const int F = b->n_features, L = g->n_levels_total;
    const size_t cells = (size_t)p->slot_span * F;
    int64_t *level_count =
        ms_calloc((size_t)p->slot_span * L + 1, sizeof(int64_t));
    int *count = ms_calloc(cells + 1, sizeof(int));
    double *log_coef = ms_calloc(cells + 1, sizeof(double));
    const char *problem = NULL;
    if (level_count == NULL || count == NULL || log_coef == NULL) {
        problem = messages[2];
        goto done;
    }
    for (int i = 0; i < p->n; i++) {
        const int k = p->group_of_row[i];
        if (k < 0) continue;
        for (int j = 0; j < F; j++) {
            const size_t r = (size_t)i * F + j;
            if (g->row_total[r] < 0) continue;
            const int32_t *x = dm_cell(b, i, j);
            for (int l = 0; l < dm_k(b, j); l++)
                level_count[(size_t)k * L + g->level_offset[j] + l] += x[l];
            count[(size_t)k * F + j]++;
            log_coef[(size_t)k * F + j] += g->row_log_coef[r];
        }
    }
    for (int k = 0; k < p->slot_span && problem == NULL; k++)
        for (int j = 0; j < F && problem == NULL; j++) {
            const size_t at = (size_t)k * F + j;
            int64_t total = 0;
            for (int l = 0; l < dm_k(b, j); l++) {
                const size_t cell = (size_t)k * L + g->level_offset[j] + l;
                total += level_count[cell];
                if (level_count[cell] != g->level_count[cell])
                    problem = messages[0];
                else if (g->shifted[cell] !=
                         dm_hp(b, j)[l] + (double)level_count[cell])
                    problem = messages[1];
            }
            if (count[at] != g->count[at] || total != g->total[at] ||
                !close_to(log_coef[at], g->log_coef[at]))
                problem = messages[0];
            else if (g->shifted_total[at] != g->alpha_sum[j] + (double)total)
                problem = messages[1];
        }
done:
    free(level_count);
    free(count);
    free(log_coef);
    return problem;
}

static void dm_free(block_t *b) {
    dm_t *g = DM(b);
    if (g != NULL) {
        free(g->level_offset);
        free(g->level_count);
        free(g->total);
        free(g->count);
        free(g->log_coef);
        free(g->shifted);
        free(g->shifted_total);
        free(g->alpha_sum);
        free(g->row_total);
        free(g->row_log_coef);
        free(g->gathered);
        free(g);
    }
    block_free_common(b);
}

static int dm_cell_size(const block_t *b, int j) { return dm_k(b, j); }

/* log p(cell | slot k) for a cell of k whole counts >= 0 (as doubles);
 * -Inf for anything else (the query glue checks cells first). */
static double dm_log_predictive(const block_t *b, int k, int j,
                                const double *cell) {
    const dm_t *g = DM(b);
    const int k_j = dm_k(b, j);
    const double *s = g->shifted + (size_t)k * g->n_levels_total +
                      g->level_offset[j];
    double m = 0.0, r = 0.0;
    for (int l = 0; l < k_j; l++) {
        const double x = cell[l];
        if (!(x >= 0 && x <= 2147483647.0) || x != floor(x)) return -INFINITY;
        m += x;
        r += log_gamma(s[l] + x) - log_gamma(s[l]) - log_gamma(x + 1.0);
    }
    const double S = g->shifted_total[(size_t)k * b->n_features + j];
    return r + log_gamma(m + 1.0) + log_gamma(S) - log_gamma(S + m);
}

static int dm_mean_size(const block_t *b, int j) { return dm_k(b, j); }

/* The expected proportions E[theta_l | slot k] = (alphas_l + c_l) / (A + C):
 * a missing cell's total is unknown, so a query predicts the share of
 * each level (?models). */
static void dm_predictive_mean(const block_t *b, int k, int j, double *out) {
    const dm_t *g = DM(b);
    const double *s = g->shifted + (size_t)k * g->n_levels_total +
                      g->level_offset[j];
    const double S = g->shifted_total[(size_t)k * b->n_features + j];
    for (int l = 0; l < dm_k(b, j); l++) out[l] = s[l] / S;
}

/* A draw of the proportions theta ~ Dirichlet(alphas + c), the quantity
 * whose mean predictive_mean gives (normalised Gamma draws). */
static void dm_sample_predictive(const block_t *b, int k, int j, rng_t *rng,
                                 double *out) {
    const dm_t *g = DM(b);
    const double *s = g->shifted + (size_t)k * g->n_levels_total +
                      g->level_offset[j];
    const int k_j = dm_k(b, j);
    double total = 0.0;
    for (int l = 0; l < k_j; l++) {
        out[l] = rng_gamma(rng, s[l]);
        total += out[l];
    }
    if (!(total > 0)) {
        /* every draw underflowed (all alphas tiny): the largest share */
        int top = 0;
        for (int l = 1; l < k_j; l++)
            if (s[l] > s[top]) top = l;
        for (int l = 0; l < k_j; l++) out[l] = l == top;
        return;
    }
    for (int l = 0; l < k_j; l++) out[l] /= total;
}

static double dm_hp_scale(const block_t *b, int j, int c) {
    (void)b, (void)j, (void)c;
    return 1.0;
}

/* ---- the partition's bulk and group-level operations (block.h) ---- */

static void dm_copy_slot(block_t *b, const partition_view_t *p, int from,
                         int to) {
    dm_t *g = DM(b);
    (void)p;
    const size_t L = g->n_levels_total, F = b->n_features;
    memcpy(g->level_count + (size_t)to * L, g->level_count + (size_t)from * L,
           L * sizeof(int64_t));
    memcpy(g->shifted + (size_t)to * L, g->shifted + (size_t)from * L,
           L * sizeof(double));
    memcpy(g->total + (size_t)to * F, g->total + (size_t)from * F,
           F * sizeof(int64_t));
    memcpy(g->count + (size_t)to * F, g->count + (size_t)from * F,
           F * sizeof(int));
    memcpy(g->log_coef + (size_t)to * F, g->log_coef + (size_t)from * F,
           F * sizeof(double));
    memcpy(g->shifted_total + (size_t)to * F,
           g->shifted_total + (size_t)from * F, F * sizeof(double));
}

/* Slots k1 and k2 as one group: the counts and the coefficients add. */
static double dm_merged_log_marginal(const block_t *b,
                                     const partition_view_t *p, int k1,
                                     int k2) {
    const dm_t *g = DM(b);
    (void)p;
    double s = 0.0;
    for (int j = 0; j < b->n_features; j++) {
        const size_t at1 = (size_t)k1 * b->n_features + j,
                     at2 = (size_t)k2 * b->n_features + j;
        if (g->count[at1] + g->count[at2] == 0) continue;
        const int64_t *c1 = g->level_count + (size_t)k1 * g->n_levels_total +
                            g->level_offset[j];
        const int64_t *c2 = g->level_count + (size_t)k2 * g->n_levels_total +
                            g->level_offset[j];
        const double *alphas = dm_hp(b, j);
        const double C = (double)(g->total[at1] + g->total[at2]);
        double t = g->log_coef[at1] + g->log_coef[at2] +
                   log_gamma(g->alpha_sum[j]) - log_gamma(g->alpha_sum[j] + C);
        for (int l = 0; l < dm_k(b, j); l++) {
            const int64_t c = c1[l] + c2[l];
            if (c > 0)
                t += log_gamma(alphas[l] + (double)c) - log_gamma(alphas[l]);
        }
        s += t;
    }
    return s;
}

/* Every row counted into its slot, statistics only (rebuild follows). */
static void dm_recount(block_t *b, const partition_view_t *p) {
    dm_t *g = DM(b);
    const size_t F = b->n_features, cap = g->capacity;
    memset(g->level_count, 0, cap * g->n_levels_total * sizeof(int64_t));
    memset(g->total, 0, cap * F * sizeof(int64_t));
    memset(g->count, 0, cap * F * sizeof(int));
    memset(g->log_coef, 0, cap * F * sizeof(double));
    for (int i = 0; i < p->n; i++) dm_count_row(b, i, p->group_of_row[i], 1);
}

const block_ops_t block_dm_ops = {
    .kind = BLOCK_DIRICHLET_MULTINOMIAL,
    .name = "dm",
    .grow = dm_grow,
    .clear_slot = dm_clear_slot,
    .add_row = dm_add_row,
    .remove_row = dm_remove_row,
    .score_all = dm_score_all,
    .score_slot = dm_score_slot,
    .score_slot_loo = dm_score_slot_loo,
    .group_log_marginal = dm_group_log_marginal,
    .rebuild = dm_rebuild,
    .set_hp = dm_set_hp,
    .gather = dm_gather,
    .gathered_log_marginal = dm_gathered_log_marginal,
    .hp_log_prior = dm_hp_log_prior,
    .hp_support = dm_hp_support,
    .n_stats = dm_n_stats,
    .get_stats = dm_get_stats,
    .check = dm_check,
    .free = dm_free,
    .copy_slot = dm_copy_slot,
    .merged_log_marginal = dm_merged_log_marginal,
    .recount = dm_recount,
    .cell_size = dm_cell_size,
    .log_predictive = dm_log_predictive,
    .mean_size = dm_mean_size,
    .predictive_mean = dm_predictive_mean,
    .sample_predictive = dm_sample_predictive,
    .hp_scale = dm_hp_scale,
    .set_stats = dm_set_stats,
};

/* Per row: the cell's total m (-1 when missing) and its log multinomial
 * coefficient, computed once: they do not depend on the group. */
static int dm_setup_rows(block_t *b) {
    dm_t *g = DM(b);
    const int F = b->n_features, n = b->data.n;
    const size_t cells = (size_t)n * F;
    g->row_total = ms_malloc(sizeof(int) * (cells + 1));
    g->row_log_coef = ms_malloc(sizeof(double) * (cells + 1));
    if (g->row_total == NULL || g->row_log_coef == NULL) return MS_ERR_NOMEM;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < F; j++) {
            const int32_t *x = dm_cell(b, i, j);
            const size_t r = (size_t)i * F + j;
            if (x[0] == BLOCK_INT_NA) {
                g->row_total[r] = -1;
                g->row_log_coef[r] = 0.0;
                continue;
            }
            int64_t m = 0;
            double coef = 0.0;
            for (int l = 0; l < dm_k(b, j); l++) {
                m += x[l];
                coef -= block_log_factorial(x[l]);
            }
            /* the R side keeps a cell's total within an int */
            if (m > INT32_MAX) return MS_ERR_UNSUPPORTED;
            g->row_total[r] = (int)m;
            g->row_log_coef[r] = coef + block_log_factorial((int)m);
        }
    return MS_OK;
}

int block_dm_setup(block_t *b, int capacity) {
    dm_t *g = ms_calloc(1, sizeof(dm_t));
    if (g == NULL) return MS_ERR_NOMEM;
    b->impl = g;
    const int F = b->n_features;
    if (b->data.cell_width == NULL) return MS_ERR_UNSUPPORTED;
    g->level_offset = ms_malloc(sizeof(int) * (F + 1));
    g->alpha_sum = ms_malloc(sizeof(double) * (F + 1));
    if (g->level_offset == NULL || g->alpha_sum == NULL) return MS_ERR_NOMEM;
    g->level_offset[0] = 0;
    for (int j = 0; j < F; j++) {
        g->level_offset[j + 1] = g->level_offset[j] + dm_k(b, j);
        if (dm_k(b, j) > g->max_levels) g->max_levels = dm_k(b, j);
        double total = 0.0;
        for (int l = 0; l < dm_k(b, j); l++) total += dm_hp(b, j)[l];
        g->alpha_sum[j] = total;
    }
    g->n_levels_total = g->level_offset[F];
    block_fill_log_factorials();
    int status = dm_setup_rows(b);
    if (status != MS_OK) return status;
    return dm_grow(b, 0, capacity > 0 ? capacity : 1);
}

/* The normal-inverse-chi-square block (nich): x | m, s2 ~ N(m, s2),
 * s2 ~ scaled-inv-chi2(nu, sigmasq), m | s2 ~ N(mu, s2 / kappa), (m, s2)
 * integrated out (Gelman et al., BDA3, section 3.3; Murphy 2007,
 * "Conjugate Bayesian analysis of the Gaussian distribution", section 5).
 * A group of n observed cells with mean xbar and sum of squared deviations
 * M2 has kappa_n = kappa + n, nu_n = nu + n, mu_n = (kappa mu + n xbar) /
 * kappa_n, V_n = nu_n sigmasq_n = nu sigmasq + M2 + n kappa / kappa_n
 * (xbar - mu)^2, and the predictive is Student t with nu_n degrees of
 * freedom, location mu_n and squared scale sigmasq_n (1 + kappa_n) /
 * kappa_n:
 *   log p(x) = C - (nu_n + 1) / 2 log(1 + (x - mu_n)^2 / Q),
 *   C = log Gamma((nu_n + 1) / 2) - log Gamma(nu_n / 2) - log(pi Q) / 2,
 *   Q = V_n (1 + kappa_n) / kappa_n.
 * Each slot caches mu_n, C, 1 / Q and (nu_n + 1) / 2 per feature: a score
 * is one log(). The statistics (n, mean, M2) are updated by Welford's
 * recurrences in both directions, which keep M2 accurate where sums of
 * squares would cancel. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "block_kinds.h"
#include "block_util.h"
#include "rng_dist.h"
#include "status.h"

#define LOG_PI 1.14472988584940017414

enum { NICH_MU, NICH_C, NICH_INV_Q, NICH_HALF_NU1, NICH_TABLE };

typedef struct {
    int capacity;
    int *count;         /* capacity x F observed cells */
    double *mean;       /* capacity x F */
    double *m2;         /* capacity x F sum of squared deviations */
    double *table;      /* capacity x F x NICH_TABLE */
    double *gathered;   /* capacity x 3: (n, mean, M2) of active groups */
    int n_gathered;
    int *row_j;         /* F: the observed features of the row scored */
    double *row_x;
    double *location, *scale; /* F: the column's, for the default prior */
} nich_t;

#define NICH(b) ((nich_t *)(b)->impl)

static inline const double *nich_hp(const block_t *b, int j) {
    return b->hp + b->hp_offset[j];
}

typedef struct {
    double kappa_n, nu_n, mu_n, v_n;
} nich_posterior_t;

static nich_posterior_t nich_posterior(const double *hp, double n,
                                       double mean, double m2) {
    const double mu = hp[0], kappa = hp[1], sigmasq = hp[2], nu = hp[3];
    nich_posterior_t q;
    q.kappa_n = kappa + n;
    q.nu_n = nu + n;
    q.mu_n = n > 0 ? (kappa * mu + n * mean) / q.kappa_n : mu;
    const double d = mean - mu;
    q.v_n = nu * sigmasq + (n > 0 ? m2 + n * kappa / q.kappa_n * d * d : 0);
    return q;
}

static void nich_constants(const nich_posterior_t *q, double *t) {
    const double Q = q->v_n * (1.0 + q->kappa_n) / q->kappa_n;
    t[NICH_MU] = q->mu_n;
    t[NICH_C] = log_gamma(0.5 * (q->nu_n + 1.0)) - log_gamma(0.5 * q->nu_n) -
                0.5 * (LOG_PI + log(Q));
    t[NICH_INV_Q] = 1.0 / Q;
    t[NICH_HALF_NU1] = 0.5 * (q->nu_n + 1.0);
}

static void nich_refresh(block_t *b, int k, int j) {
    nich_t *g = NICH(b);
    const size_t at = (size_t)k * b->n_features + j;
    const nich_posterior_t q =
        nich_posterior(nich_hp(b, j), g->count[at], g->mean[at], g->m2[at]);
    nich_constants(&q, g->table + at * NICH_TABLE);
}

static inline double nich_score_cell(const double *t, double x) {
    const double d = x - t[NICH_MU];
    return t[NICH_C] - t[NICH_HALF_NU1] * log(1.0 + d * d * t[NICH_INV_Q]);
}

/* Welford's update of (n, mean, M2) by one value in or out. */
static void welford_add(int *n, double *mean, double *m2, double x) {
    (*n)++;
    const double d = x - *mean;
    *mean += d / *n;
    *m2 += d * (x - *mean);
}

static void welford_remove(int *n, double *mean, double *m2, double x) {
    if (*n <= 1) {
        *n = 0;
        *mean = 0.0;
        *m2 = 0.0;
        return;
    }
    (*n)--;
    const double old_mean = *mean;
    *mean = old_mean - (x - old_mean) / *n;
    *m2 -= (x - *mean) * (x - old_mean);
    if (*m2 < 0) *m2 = 0.0;
}

static double nich_log_pred(const double *hp, double n, double mean,
                            double m2, double x) {
    const nich_posterior_t q = nich_posterior(hp, n, mean, m2);
    double t[NICH_TABLE];
    nich_constants(&q, t);
    return nich_score_cell(t, x);
}

/* Feature log marginal of n cells (BDA3 / Murphy 2007 eq. 153 in
 * scaled-inv-chi2 form):
 *   log Gamma(nu_n / 2) - log Gamma(nu / 2) + log(kappa / kappa_n) / 2
 *   + nu / 2 log(nu sigmasq) - nu_n / 2 log(V_n) - n / 2 log(pi). */
static double nich_log_marginal(const double *hp, double n, double mean,
                                double m2) {
    if (n == 0) return 0.0;
    const double kappa = hp[1], sigmasq = hp[2], nu = hp[3];
    const nich_posterior_t q = nich_posterior(hp, n, mean, m2);
    return log_gamma(0.5 * q.nu_n) - log_gamma(0.5 * nu) +
           0.5 * log(kappa / q.kappa_n) + 0.5 * nu * log(nu * sigmasq) -
           0.5 * q.nu_n * log(q.v_n) - 0.5 * n * LOG_PI;
}

static int nich_grow(block_t *b, int old_capacity, int new_capacity) {
    nich_t *g = NICH(b);
    const size_t F = b->n_features;
    (void)old_capacity;
    const size_t old = g->capacity;
    if ((size_t)new_capacity <= old) return MS_OK;
    if (block_grow_array((void **)&g->count, sizeof(int), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->mean, sizeof(double), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->m2, sizeof(double), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->table, sizeof(double),
                         old * F * NICH_TABLE,
                         new_capacity * F * NICH_TABLE) ||
        block_grow_array((void **)&g->gathered, sizeof(double), old * 3,
                         (size_t)new_capacity * 3))
        return MS_ERR_NOMEM;
    g->capacity = new_capacity;
    for (int k = (int)old; k < new_capacity; k++)
        for (int j = 0; j < b->n_features; j++) nich_refresh(b, k, j);
    return MS_OK;
}

static void nich_clear_slot(block_t *b, const partition_view_t *p, int k) {
    nich_t *g = NICH(b);
    (void)p;
    for (int j = 0; j < b->n_features; j++) {
        const size_t at = (size_t)k * b->n_features + j;
        g->count[at] = 0;
        g->mean[at] = 0.0;
        g->m2[at] = 0.0;
        nich_refresh(b, k, j);
    }
}

static void nich_add_row(block_t *b, const partition_view_t *p, int row,
                         int k) {
    nich_t *g = NICH(b);
    const int F = b->n_features;
    const double *x = b->data.dvalues + (size_t)row * F;
    (void)p;
    for (int j = 0; j < F; j++) {
        if (isnan(x[j])) continue;
        const size_t at = (size_t)k * F + j;
        welford_add(&g->count[at], &g->mean[at], &g->m2[at], x[j]);
        nich_refresh(b, k, j);
    }
}

static void nich_remove_row(block_t *b, const partition_view_t *p, int row,
                            int k) {
    nich_t *g = NICH(b);
    const int F = b->n_features;
    const double *x = b->data.dvalues + (size_t)row * F;
    (void)p;
    for (int j = 0; j < F; j++) {
        if (isnan(x[j])) continue;
        const size_t at = (size_t)k * F + j;
        welford_remove(&g->count[at], &g->mean[at], &g->m2[at], x[j]);
        nich_refresh(b, k, j);
    }
}

static void nich_score_all(block_t *b, const partition_view_t *p, int row,
                           double *scores, int accumulate) {
    nich_t *g = NICH(b);
    const int F = b->n_features;
    const double *x = b->data.dvalues + (size_t)row * F;
    int m = 0;
    for (int j = 0; j < F; j++) {
        if (isnan(x[j])) continue;
        g->row_j[m] = j;
        g->row_x[m] = x[j];
        m++;
    }
    for (int a = 0; a <= p->n_active; a++) {
        const int k = a < p->n_active ? p->active[a] : p->ghost;
        const double *t = g->table + (size_t)k * F * NICH_TABLE;
        double s = 0.0;
        for (int i = 0; i < m; i++)
            s += nich_score_cell(t + (size_t)g->row_j[i] * NICH_TABLE,
                                 g->row_x[i]);
        scores[k] = accumulate ? scores[k] + s : s;
    }
}

static double nich_score_slot(const block_t *b, const partition_view_t *p,
                              int row, int k) {
    const nich_t *g = NICH(b);
    const int F = b->n_features;
    const double *x = b->data.dvalues + (size_t)row * F;
    const double *t = g->table + (size_t)k * F * NICH_TABLE;
    double s = 0.0;
    (void)p;
    for (int j = 0; j < F; j++)
        if (!isnan(x[j]))
            s += nich_score_cell(t + (size_t)j * NICH_TABLE, x[j]);
    return s;
}

static double nich_score_slot_loo(const block_t *b, const partition_view_t *p,
                                  int row, int k) {
    const nich_t *g = NICH(b);
    const int F = b->n_features;
    const double *x = b->data.dvalues + (size_t)row * F;
    double s = 0.0;
    (void)p;
    for (int j = 0; j < F; j++) {
        if (isnan(x[j])) continue;
        const size_t at = (size_t)k * F + j;
        int n = g->count[at];
        double mean = g->mean[at], m2 = g->m2[at];
        welford_remove(&n, &mean, &m2, x[j]);
        s += nich_log_pred(nich_hp(b, j), n, mean, m2, x[j]);
    }
    return s;
}

static double nich_group_log_marginal(const block_t *b,
                                      const partition_view_t *p, int k) {
    const nich_t *g = NICH(b);
    double s = 0.0;
    (void)p;
    for (int j = 0; j < b->n_features; j++) {
        const size_t at = (size_t)k * b->n_features + j;
        s += nich_log_marginal(nich_hp(b, j), g->count[at], g->mean[at],
                               g->m2[at]);
    }
    return s;
}

/* Every slot's tables, free ones included (the partition may offer any
 * free slot as the ghost): a feature's empty-group table is computed once,
 * in the first slot where the feature has no cell, and copied to the
 * others. */
static int nich_rebuild(block_t *b, const partition_view_t *p) {
    nich_t *g = NICH(b);
    const int F = b->n_features;
    (void)p;
    for (int j = 0; j < F; j++) {
        const double *empty = NULL;
        for (int k = 0; k < g->capacity; k++) {
            const size_t at = (size_t)k * F + j;
            if (g->count[at] > 0) {
                nich_refresh(b, k, j);
            } else if (empty == NULL) {
                nich_refresh(b, k, j);
                empty = g->table + at * NICH_TABLE;
            } else {
                memcpy(g->table + at * NICH_TABLE, empty,
                       sizeof(double) * NICH_TABLE);
            }
        }
    }
    return MS_OK;
}

static void nich_set_hp(block_t *b, int j, const double *hp) {
    for (int c = 0; c < 4; c++) b->hp[b->hp_offset[j] + c] = hp[c];
}

static void nich_gather(block_t *b, const partition_view_t *p, int j) {
    nich_t *g = NICH(b);
    int m = 0;
    for (int a = 0; a < p->n_active; a++) {
        const size_t at = (size_t)p->active[a] * b->n_features + j;
        if (g->count[at] == 0) continue;
        g->gathered[3 * m] = g->count[at];
        g->gathered[3 * m + 1] = g->mean[at];
        g->gathered[3 * m + 2] = g->m2[at];
        m++;
    }
    g->n_gathered = m;
}

static double nich_gathered_log_marginal(const block_t *b, int j,
                                         const double *hp) {
    const nich_t *g = NICH(b);
    const double *s3 = g->gathered;
    double s = 0.0;
    (void)j;
    for (int m = 0; m < g->n_gathered; m++)
        s += nich_log_marginal(hp, s3[3 * m], s3[3 * m + 1], s3[3 * m + 2]);
    return s;
}

/* Default hyperprior (MODELS.md), independent coordinates, scaled by the
 * column's observed mean xbar and standard deviation sd (block_init), so
 * that changing the column's units changes nothing but the units:
 *   mu      ~ N(xbar, (3 sd)^2)
 *   kappa   ~ log-normal(log 1, 1.5^2)     (prior sample size of the mean)
 *   sigmasq ~ log-normal(log sd^2, 2^2)
 *   nu      ~ log-normal(log 1, 1.5^2)     (prior sample size of s2)
 * All proper; the positive ones on (0, MS_MAX_HYPERPARAMETER). */
static double nich_hp_log_prior(const block_t *b, int j, int c, double value) {
    const nich_t *g = NICH(b);
    const double sd = g->scale[j];
    switch (c) {
    case 0: {
        if (!isfinite(value)) return -INFINITY;
        const double z = (value - g->location[j]) / (3.0 * sd);
        return -0.5 * z * z;
    }
    case 2: return block_log_normal_prior(value, sd * sd, 2.0);
    default: return block_log_normal_prior(value, 1.0, 1.5);
    }
}

static void nich_hp_support(const block_t *b, int j, int c, double *lower,
                            double *upper) {
    (void)b, (void)j;
    if (c == 0) {
        *lower = -INFINITY;
        *upper = INFINITY;
    } else {
        block_positive_support(lower, upper);
    }
}

/* count, mean, sum of squared deviations from the mean. */
static int nich_n_stats(const block_t *b, int j) {
    (void)b, (void)j;
    return 3;
}

static void nich_get_stats(const block_t *b, int k, int j, double *out) {
    const nich_t *g = NICH(b);
    const size_t at = (size_t)k * b->n_features + j;
    out[0] = g->count[at];
    out[1] = g->mean[at];
    out[2] = g->m2[at];
}

/* Real-valued statistics drift by rounding under add/remove: compared to
 * a recount relative to the column's scale. */
static void nich_set_stats(block_t *b, int k, int j, const double *in) {
    nich_t *g = NICH(b);
    const size_t at = (size_t)k * b->n_features + j;
    g->count[at] = (int)in[0];
    g->mean[at] = in[1];
    g->m2[at] = in[2];
    nich_refresh(b, k, j);
}

static int close_to(double a, double b, double scale) {
    return fabs(a - b) <= 1e-8 * (scale + fabs(a) + fabs(b));
}

static const char *nich_check(const block_t *b, const partition_view_t *p) {
    static const char *const messages[] = {
        "nich: a slot's count differs from a recount",
        "nich: a slot's mean or sum of squared deviations differs from a "
        "recount",
        "nich: a slot's table differs from its statistics",
        "nich: out of memory"};
    const nich_t *g = NICH(b);
    const int F = b->n_features;
    const size_t cells = (size_t)p->slot_span * F;
    int *count = ms_calloc(cells + 1, sizeof(int));
    double *sum = ms_calloc(cells + 1, sizeof(double));
    double *m2 = ms_calloc(cells + 1, sizeof(double));
    const char *problem = NULL;
    if (count == NULL || sum == NULL || m2 == NULL) {
        problem = messages[3];
        goto done;
    }
    /* Two passes: means, then squared deviations. */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < p->n; i++) {
            const int k = p->group_of_row[i];
            if (k < 0) continue;
            for (int j = 0; j < F; j++) {
                const double x = b->data.dvalues[(size_t)i * F + j];
                if (isnan(x)) continue;
                const size_t at = (size_t)k * F + j;
                if (pass == 0) {
                    count[at]++;
                    sum[at] += x;
                } else {
                    const double d = x - sum[at];
                    m2[at] += d * d;
                }
            }
            if (pass == 0 && i == p->n - 1)
                for (size_t at = 0; at < cells; at++)
                    if (count[at] > 0) sum[at] /= count[at];
        }
    if (p->n == 0) goto done;
    for (int k = 0; k < p->slot_span && problem == NULL; k++)
        for (int j = 0; j < F && problem == NULL; j++) {
            const size_t at = (size_t)k * F + j;
            const double scale = g->scale[j];
            if (count[at] != g->count[at]) {
                problem = messages[0];
                continue;
            }
            if (!close_to(sum[at], g->mean[at], scale) ||
                !close_to(m2[at], g->m2[at], scale * scale * (count[at] + 1)))
                problem = messages[1];
            double t[NICH_TABLE];
            const nich_posterior_t q = nich_posterior(
                nich_hp(b, j), g->count[at], g->mean[at], g->m2[at]);
            nich_constants(&q, t);
            const double *mine = g->table + at * NICH_TABLE;
            for (int i = 0; i < NICH_TABLE; i++)
                if (fabs(t[i] - mine[i]) > 1e-12 * (fabs(t[i]) + 1e-300) &&
                    problem == NULL)
                    problem = messages[2];
        }
done:
    free(count);
    free(sum);
    free(m2);
    return problem;
}

static void nich_free(block_t *b) {
    nich_t *g = NICH(b);
    if (g != NULL) {
        free(g->count);
        free(g->mean);
        free(g->m2);
        free(g->table);
        free(g->gathered);
        free(g->row_j);
        free(g->row_x);
        free(g->location);
        free(g->scale);
        free(g);
    }
    block_free_common(b);
}

static int nich_cell_size(const block_t *b, int j) {
    (void)b, (void)j;
    return 1;
}

static double nich_log_predictive(const block_t *b, int k, int j,
                                  const double *cell) {
    const nich_t *g = NICH(b);
    const size_t at = (size_t)k * b->n_features + j;
    if (!isfinite(cell[0])) return -INFINITY;
    return nich_log_pred(nich_hp(b, j), g->count[at], g->mean[at], g->m2[at],
                         cell[0]);
}

/* mu_n: the mean of the Student t when nu_n > 1, its median (and centre)
 * always. */
static void nich_predictive_mean(const block_t *b, int k, int j,
                                 double *out) {
    const nich_t *g = NICH(b);
    const size_t at = (size_t)k * b->n_features + j;
    out[0] = nich_posterior(nich_hp(b, j), g->count[at], g->mean[at],
                            g->m2[at])
                 .mu_n;
}

/* s2 = V_n / chi2(nu_n) (chi2 = 2 Gamma(nu_n / 2)), m ~ N(mu_n, s2 /
 * kappa_n), x ~ N(m, s2): the predictive's own construction. */
static void nich_sample_predictive(const block_t *b, int k, int j, rng_t *rng,
                                   double *out) {
    const nich_t *g = NICH(b);
    const size_t at = (size_t)k * b->n_features + j;
    const nich_posterior_t q =
        nich_posterior(nich_hp(b, j), g->count[at], g->mean[at], g->m2[at]);
    const double s2 = q.v_n / (2.0 * rng_gamma(rng, 0.5 * q.nu_n));
    const double m = q.mu_n + sqrt(s2 / q.kappa_n) * rng_normal(rng);
    out[0] = m + sqrt(s2) * rng_normal(rng);
}

/* mu moves on the column's scale. */
static double nich_hp_scale(const block_t *b, int j, int c) {
    (void)c;
    return NICH(b)->scale[j];
}

/* ---- the partition's bulk and group-level operations (block.h) ---- */

/* Slot compaction: the statistics and tables of `from` into `to`. */
static void nich_copy_slot(block_t *b, const partition_view_t *p, int from,
                           int to) {
    nich_t *g = NICH(b);
    (void)p;
    const size_t F = b->n_features;
    memcpy(g->count + (size_t)to * F, g->count + (size_t)from * F,
           F * sizeof(int));
    memcpy(g->mean + (size_t)to * F, g->mean + (size_t)from * F,
           F * sizeof(double));
    memcpy(g->m2 + (size_t)to * F, g->m2 + (size_t)from * F,
           F * sizeof(double));
    memcpy(g->table + (size_t)to * F * NICH_TABLE,
           g->table + (size_t)from * F * NICH_TABLE,
           F * NICH_TABLE * sizeof(double));
}

/* The log marginal of slots k1 and k2 as one group, their (n, mean, M2)
 * pooled by Chan, Golub and LeVeque's (1979) pairwise update:
 * M2 = M2_1 + M2_2 + delta^2 n_1 n_2 / n, delta = mean_2 - mean_1. */
static double nich_merged_log_marginal(const block_t *b,
                                       const partition_view_t *p, int k1,
                                       int k2) {
    const nich_t *g = NICH(b);
    (void)p;
    double s = 0.0;
    for (int j = 0; j < b->n_features; j++) {
        const size_t at1 = (size_t)k1 * b->n_features + j,
                     at2 = (size_t)k2 * b->n_features + j;
        const double n1 = g->count[at1], n2 = g->count[at2], n = n1 + n2;
        if (n == 0) continue;
        const double delta = g->mean[at2] - g->mean[at1];
        const double mean = g->mean[at1] + delta * n2 / n;
        const double m2 = g->m2[at1] + g->m2[at2] + delta * delta * n1 * n2 / n;
        s += nich_log_marginal(nich_hp(b, j), n, mean, m2);
    }
    return s;
}

/* Every row counted into its slot, statistics only (rebuild follows), by
 * the same Welford additions as add_row. */
static void nich_recount(block_t *b, const partition_view_t *p) {
    nich_t *g = NICH(b);
    const int F = b->n_features;
    memset(g->count, 0, (size_t)g->capacity * F * sizeof(int));
    memset(g->mean, 0, (size_t)g->capacity * F * sizeof(double));
    memset(g->m2, 0, (size_t)g->capacity * F * sizeof(double));
    for (int i = 0; i < p->n; i++) {
        const int k = p->group_of_row[i];
        const double *x = b->data.dvalues + (size_t)i * F;
        for (int j = 0; j < F; j++) {
            if (isnan(x[j])) continue;
            const size_t at = (size_t)k * F + j;
            welford_add(&g->count[at], &g->mean[at], &g->m2[at], x[j]);
        }
    }
}

const block_ops_t block_nich_ops = {
    .kind = BLOCK_NORMAL_INVERSE_CHISQ,
    .name = "nich",
    .grow = nich_grow,
    .clear_slot = nich_clear_slot,
    .add_row = nich_add_row,
    .remove_row = nich_remove_row,
    .score_all = nich_score_all,
    .score_slot = nich_score_slot,
    .score_slot_loo = nich_score_slot_loo,
    .group_log_marginal = nich_group_log_marginal,
    .rebuild = nich_rebuild,
    .set_hp = nich_set_hp,
    .gather = nich_gather,
    .gathered_log_marginal = nich_gathered_log_marginal,
    .hp_log_prior = nich_hp_log_prior,
    .hp_support = nich_hp_support,
    .n_stats = nich_n_stats,
    .get_stats = nich_get_stats,
    .check = nich_check,
    .free = nich_free,
    .cell_size = nich_cell_size,
    .log_predictive = nich_log_predictive,
    .mean_size = nich_cell_size,
    .predictive_mean = nich_predictive_mean,
    .sample_predictive = nich_sample_predictive,
    .hp_scale = nich_hp_scale,
    .set_stats = nich_set_stats,
    .copy_slot = nich_copy_slot,
    .merged_log_marginal = nich_merged_log_marginal,
    .recount = nich_recount,
};

int block_nich_setup(block_t *b, int capacity) {
    nich_t *g = ms_calloc(1, sizeof(nich_t));
    if (g == NULL) return MS_ERR_NOMEM;
    b->impl = g;
    const int F = b->n_features;
    g->row_j = ms_malloc(sizeof(int) * (F + 1));
    g->row_x = ms_malloc(sizeof(double) * (F + 1));
    g->location = ms_malloc(sizeof(double) * (F + 1));
    g->scale = ms_malloc(sizeof(double) * (F + 1));
    if (g->row_j == NULL || g->row_x == NULL || g->location == NULL ||
        g->scale == NULL)
        return MS_ERR_NOMEM;
    for (int j = 0; j < F; j++)
        block_column_location_scale(&b->data, j, &g->location[j],
                                    &g->scale[j]);
    return nich_grow(b, 0, capacity > 0 ? capacity : 1);
}

/* The Dirichlet-discrete block (dd): x | theta ~ Categorical(theta) over
 * levels 0 .. k - 1, theta ~ Dirichlet(alphas), theta integrated out (the
 * Polya urn). With c_l the group's cells at level l, n = sum_l c_l and
 * A = sum_l alphas_l:
 *   predictive  p(x = l) = (alphas_l + c_l) / (A + n),
 *   marginal    log Gamma(A) - log Gamma(A + n)
 *               + sum_l log Gamma(alphas_l + c_l) - log Gamma(alphas_l).
 * Each slot caches log(alphas_l + c_l) for every level and log(A + n) per
 * feature: a score is two look-ups, a move two logs per feature. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "block_kinds.h"
#include "block_util.h"
#include "status.h"

typedef struct {
    int capacity;
    int n_levels_total;     /* L = sum of the features' k */
    int *level_offset;      /* F + 1: feature j's levels at offset[j].. */
    int *level_count;       /* capacity x L */
    int *count;             /* capacity x F observed cells */
    double *log_num;        /* capacity x L: log(alphas_l + c_l) */
    double *log_den;        /* capacity x F: log(A + n) */
    double *alpha_sum;      /* F: A */
    int max_levels;
    int *gathered;          /* capacity x (max_levels + 1): counts, n */
    int n_gathered;
    int *row_at;            /* F: the row's observed levels, as offsets */
    int *row_j;
} dd_t;

#define DD(b) ((dd_t *)(b)->impl)

static inline const double *dd_hp(const block_t *b, int j) {
    return b->hp + b->hp_offset[j];
}

static inline int dd_k(const block_t *b, int j) {
    return b->data.n_levels[j];
}

static void dd_refresh_feature(block_t *b, int k, int j) {
    dd_t *g = DD(b);
    const double *alphas = dd_hp(b, j);
    const size_t base = (size_t)k * g->n_levels_total + g->level_offset[j];
    for (int l = 0; l < dd_k(b, j); l++)
        g->log_num[base + l] = log(alphas[l] + g->level_count[base + l]);
    const size_t at = (size_t)k * b->n_features + j;
    g->log_den[at] = log(g->alpha_sum[j] + g->count[at]);
}

static int dd_grow(block_t *b, int old_capacity, int new_capacity) {
    dd_t *g = DD(b);
    const size_t F = b->n_features, L = g->n_levels_total;
    const size_t M = g->max_levels + 1;
    (void)old_capacity;
    const size_t old = g->capacity;
    if ((size_t)new_capacity <= old) return MS_OK;
    if (block_grow_array((void **)&g->level_count, sizeof(int), old * L,
                         new_capacity * L) ||
        block_grow_array((void **)&g->count, sizeof(int), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->log_num, sizeof(double), old * L,
                         new_capacity * L) ||
        block_grow_array((void **)&g->log_den, sizeof(double), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->gathered, sizeof(int), old * M,
                         new_capacity * M))
        return MS_ERR_NOMEM;
    g->capacity = new_capacity;
    for (int k = (int)old; k < new_capacity; k++)
        for (int j = 0; j < b->n_features; j++) dd_refresh_feature(b, k, j);
    return MS_OK;
}

static void dd_clear_slot(block_t *b, const partition_view_t *p, int k) {
    dd_t *g = DD(b);
    (void)p;
    for (int j = 0; j < b->n_features; j++) {
        const size_t base =
            (size_t)k * g->n_levels_total + g->level_offset[j];
        for (int l = 0; l < dd_k(b, j); l++) g->level_count[base + l] = 0;
        g->count[(size_t)k * b->n_features + j] = 0;
        dd_refresh_feature(b, k, j);
    }
}

static void dd_move(block_t *b, int row, int k, int sign) {
    dd_t *g = DD(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    for (int j = 0; j < F; j++) {
        if (x[j] == BLOCK_INT_NA) continue;
        const size_t cell = (size_t)k * g->n_levels_total +
                            g->level_offset[j] + x[j];
        const size_t at = (size_t)k * F + j;
        g->level_count[cell] += sign;
        g->count[at] += sign;
        g->log_num[cell] = log(dd_hp(b, j)[x[j]] + g->level_count[cell]);
        g->log_den[at] = log(g->alpha_sum[j] + g->count[at]);
    }
}

static void dd_add_row(block_t *b, const partition_view_t *p, int row,
                       int k) {
    (void)p;
    dd_move(b, row, k, 1);
}

static void dd_remove_row(block_t *b, const partition_view_t *p, int row,
                          int k) {
    (void)p;
    dd_move(b, row, k, -1);
}

static void dd_score_all(block_t *b, const partition_view_t *p, int row,
                         double *scores, int accumulate) {
    dd_t *g = DD(b);
    const int F = b->n_features, L = g->n_levels_total;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    int m = 0;
    for (int j = 0; j < F; j++) {
        if (x[j] == BLOCK_INT_NA) continue;
        g->row_j[m] = j;
        g->row_at[m] = g->level_offset[j] + x[j];
        m++;
    }
    for (int a = 0; a <= p->n_active; a++) {
        const int k = a < p->n_active ? p->active[a] : p->ghost;
        const double *num = g->log_num + (size_t)k * L;
        const double *den = g->log_den + (size_t)k * F;
        double s = 0.0;
        for (int i = 0; i < m; i++) s += num[g->row_at[i]] - den[g->row_j[i]];
        scores[k] = accumulate ? scores[k] + s : s;
    }
}

static double dd_score_slot(const block_t *b, const partition_view_t *p,
                            int row, int k) {
    const dd_t *g = DD(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    const double *num = g->log_num + (size_t)k * g->n_levels_total;
    const double *den = g->log_den + (size_t)k * F;
    double s = 0.0;
    (void)p;
    for (int j = 0; j < F; j++)
        if (x[j] != BLOCK_INT_NA) s += num[g->level_offset[j] + x[j]] - den[j];
    return s;
}

static double dd_score_slot_loo(const block_t *b, const partition_view_t *p,
                                int row, int k) {
    const dd_t *g = DD(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    double s = 0.0;
    (void)p;
    for (int j = 0; j < F; j++) {
        if (x[j] == BLOCK_INT_NA) continue;
        const size_t cell = (size_t)k * g->n_levels_total +
                            g->level_offset[j] + x[j];
        s += log(dd_hp(b, j)[x[j]] + g->level_count[cell] - 1) -
             log(g->alpha_sum[j] + g->count[(size_t)k * F + j] - 1);
    }
    return s;
}

/* One feature's log marginal from its level counts (c, k of them) and n. */
static double dd_log_marginal(const double *alphas, double alpha_sum,
                              const int *c, int k, int n) {
    if (n == 0) return 0.0;
    double s = log_gamma(alpha_sum) - log_gamma(alpha_sum + n);
    for (int l = 0; l < k; l++)
        if (c[l] > 0) s += log_gamma(alphas[l] + c[l]) - log_gamma(alphas[l]);
    return s;
}

static double dd_group_log_marginal(const block_t *b,
                                    const partition_view_t *p, int k) {
    const dd_t *g = DD(b);
    double s = 0.0;
    (void)p;
    for (int j = 0; j < b->n_features; j++)
        s += dd_log_marginal(
            dd_hp(b, j), g->alpha_sum[j],
            g->level_count + (size_t)k * g->n_levels_total +
                g->level_offset[j],
            dd_k(b, j), g->count[(size_t)k * b->n_features + j]);
    return s;
}

static int dd_rebuild(block_t *b, const partition_view_t *p) {
    (void)p;
    for (int k = 0; k < DD(b)->capacity; k++)
        for (int j = 0; j < b->n_features; j++) dd_refresh_feature(b, k, j);
    return MS_OK;
}

static void dd_set_hp(block_t *b, int j, const double *hp) {
    double total = 0.0;
    for (int l = 0; l < dd_k(b, j); l++) {
        b->hp[b->hp_offset[j] + l] = hp[l];
        total += hp[l];
    }
    DD(b)->alpha_sum[j] = total;
}

static void dd_gather(block_t *b, const partition_view_t *p, int j) {
    dd_t *g = DD(b);
    const int k_j = dd_k(b, j), M = g->max_levels + 1;
    int m = 0;
    for (int a = 0; a < p->n_active; a++) {
        const int k = p->active[a];
        const int n = g->count[(size_t)k * b->n_features + j];
        if (n == 0) continue;
        int *out = g->gathered + (size_t)m * M;
        const int *c = g->level_count + (size_t)k * g->n_levels_total +
                       g->level_offset[j];
        for (int l = 0; l < k_j; l++) out[l] = c[l];
        out[k_j] = n;
        m++;
    }
    g->n_gathered = m;
}

static double dd_gathered_log_marginal(const block_t *b, int j,
                                       const double *hp) {
    const dd_t *g = DD(b);
    const int k_j = dd_k(b, j), M = g->max_levels + 1;
    double alpha_sum = 0.0, s = 0.0;
    for (int l = 0; l < k_j; l++) alpha_sum += hp[l];
    for (int m = 0; m < g->n_gathered; m++) {
        const int *c = g->gathered + (size_t)m * M;
        s += dd_log_marginal(hp, alpha_sum, c, k_j, c[k_j]);
    }
    return s;
}

/* Default hyperprior (MODELS.md): each alphas_l independently
 * log-normal(log 1, 1.5^2), proper, median 1 (the uniform Dirichlet), on
 * (0, MS_MAX_HYPERPARAMETER). */
static double dd_hp_log_prior(const block_t *b, int j, int c, double value) {
    (void)b, (void)j, (void)c;
    return block_log_normal_prior(value, 1.0, 1.5);
}

static void dd_hp_support(const block_t *b, int j, int c, double *lower,
                          double *upper) {
    (void)b, (void)j, (void)c;
    block_positive_support(lower, upper);
}

/* The count of each level. */
static int dd_n_stats(const block_t *b, int j) { return dd_k(b, j); }

static void dd_get_stats(const block_t *b, int k, int j, double *out) {
    const dd_t *g = DD(b);
    const int *c =
        g->level_count + (size_t)k * g->n_levels_total + g->level_offset[j];
    for (int l = 0; l < dd_k(b, j); l++) out[l] = c[l];
}

static void dd_set_stats(block_t *b, int k, int j, const double *in) {
    dd_t *g = DD(b);
    int *c = g->level_count + (size_t)k * g->n_levels_total +
             g->level_offset[j];
    int n = 0;
    for (int l = 0; l < dd_k(b, j); l++) {
        c[l] = (int)in[l];
        n += c[l];
    }
    g->count[(size_t)k * b->n_features + j] = n;
    dd_refresh_feature(b, k, j);
}

static const char *dd_check(const block_t *b, const partition_view_t *p) {
    static const char *const messages[] = {
        "dd: a slot's level counts differ from a recount",
        "dd: a slot's table differs from its counts", "dd: out of memory"};
    const dd_t *g = DD(b);
    const int F = b->n_features, L = g->n_levels_total;
    int *level_count = ms_calloc((size_t)p->slot_span * L + 1, sizeof(int));
    int *count = ms_calloc((size_t)p->slot_span * F + 1, sizeof(int));
    const char *problem = NULL;
    if (level_count == NULL || count == NULL) {
        problem = messages[2];
        goto done;
    }
    for (int i = 0; i < p->n; i++) {
        const int k = p->group_of_row[i];
        if (k < 0) continue;
        for (int j = 0; j < F; j++) {
            const int32_t x = b->data.ivalues[(size_t)i * F + j];
            if (x == BLOCK_INT_NA) continue;
            level_count[(size_t)k * L + g->level_offset[j] + x]++;
            count[(size_t)k * F + j]++;
        }
    }
    for (int k = 0; k < p->slot_span && problem == NULL; k++)
        for (int j = 0; j < F && problem == NULL; j++) {
            const size_t at = (size_t)k * F + j;
            if (count[at] != g->count[at]) problem = messages[0];
            if (g->log_den[at] != log(g->alpha_sum[j] + count[at]))
                problem = messages[1];
            for (int l = 0; l < dd_k(b, j); l++) {
                const size_t cell = (size_t)k * L + g->level_offset[j] + l;
                if (level_count[cell] != g->level_count[cell])
                    problem = messages[0];
                else if (g->log_num[cell] !=
                         log(dd_hp(b, j)[l] + level_count[cell]))
                    problem = messages[1];
            }
        }
done:
    free(level_count);
    free(count);
    return problem;
}

static void dd_free(block_t *b) {
    dd_t *g = DD(b);
    if (g != NULL) {
        free(g->level_offset);
        free(g->level_count);
        free(g->count);
        free(g->log_num);
        free(g->log_den);
        free(g->alpha_sum);
        free(g->gathered);
        free(g->row_at);
        free(g->row_j);
        free(g);
    }
    block_free_common(b);
}

static int dd_cell_size(const block_t *b, int j) {
    (void)b, (void)j;
    return 1;
}

static double dd_log_predictive(const block_t *b, int k, int j,
                                const double *cell) {
    const dd_t *g = DD(b);
    const double x = cell[0];
    if (!(x >= 0 && x < dd_k(b, j)) || x != floor(x)) return -INFINITY;
    const int l = (int)x;
    const size_t base = (size_t)k * g->n_levels_total + g->level_offset[j];
    return log(dd_hp(b, j)[l] + g->level_count[base + l]) -
           log(g->alpha_sum[j] + g->count[(size_t)k * b->n_features + j]);
}

static int dd_mean_size(const block_t *b, int j) { return dd_k(b, j); }

/* The probability of each level, (alphas_l + c_l) / (A + n). */
static void dd_predictive_mean(const block_t *b, int k, int j, double *out) {
    const dd_t *g = DD(b);
    const size_t base = (size_t)k * g->n_levels_total + g->level_offset[j];
    const double total =
        g->alpha_sum[j] + g->count[(size_t)k * b->n_features + j];
    for (int l = 0; l < dd_k(b, j); l++)
        out[l] = (dd_hp(b, j)[l] + g->level_count[base + l]) / total;
}

static void dd_sample_predictive(const block_t *b, int k, int j, rng_t *rng,
                                 double *out) {
    const dd_t *g = DD(b);
    const size_t base = (size_t)k * g->n_levels_total + g->level_offset[j];
    const double total =
        g->alpha_sum[j] + g->count[(size_t)k * b->n_features + j];
    double u = rng_unif(rng) * total;
    const int k_j = dd_k(b, j);
    int l = 0;
    for (; l < k_j - 1; l++) {
        const double w = dd_hp(b, j)[l] + g->level_count[base + l];
        if (u < w) break;
        u -= w;
    }
    out[0] = l;
}

/* Every coordinate is positive (sliced on the log scale): no unbounded
 * coordinate needs a scale. */
static double dd_hp_scale(const block_t *b, int j, int c) {
    (void)b, (void)j, (void)c;
    return 1.0;
}

/* ---- the partition's bulk and group-level operations (block.h) ---- */

/* Slot compaction: the statistics and tables of `from` into `to`. */
static void dd_copy_slot(block_t *b, const partition_view_t *p, int from,
                         int to) {
    dd_t *g = DD(b);
    (void)p;
    const size_t L = g->n_levels_total, F = b->n_features;
    memcpy(g->level_count + (size_t)to * L, g->level_count + (size_t)from * L,
           L * sizeof(int));
    memcpy(g->log_num + (size_t)to * L, g->log_num + (size_t)from * L,
           L * sizeof(double));
    memcpy(g->count + (size_t)to * F, g->count + (size_t)from * F,
           F * sizeof(int));
    memcpy(g->log_den + (size_t)to * F, g->log_den + (size_t)from * F,
           F * sizeof(double));
}

/* The log marginal of slots k1 and k2 as one group: the level counts add. */
static double dd_merged_log_marginal(const block_t *b,
                                     const partition_view_t *p, int k1,
                                     int k2) {
    const dd_t *g = DD(b);
    (void)p;
    double s = 0.0;
    for (int j = 0; j < b->n_features; j++) {
        const size_t at1 = (size_t)k1 * b->n_features + j,
                     at2 = (size_t)k2 * b->n_features + j;
        const int n = g->count[at1] + g->count[at2];
        if (n == 0) continue;
        const int *c1 = g->level_count + (size_t)k1 * g->n_levels_total +
                        g->level_offset[j];
        const int *c2 = g->level_count + (size_t)k2 * g->n_levels_total +
                        g->level_offset[j];
        const double *alphas = dd_hp(b, j);
        double t = log_gamma(g->alpha_sum[j]) - log_gamma(g->alpha_sum[j] + n);
        for (int l = 0; l < dd_k(b, j); l++) {
            const int c = c1[l] + c2[l];
            if (c > 0) t += log_gamma(alphas[l] + c) - log_gamma(alphas[l]);
        }
        s += t;
    }
    return s;
}

/* Every row counted into its slot, statistics only (rebuild follows). */
static void dd_recount(block_t *b, const partition_view_t *p) {
    dd_t *g = DD(b);
    const int F = b->n_features;
    memset(g->level_count, 0,
           (size_t)g->capacity * g->n_levels_total * sizeof(int));
    memset(g->count, 0, (size_t)g->capacity * F * sizeof(int));
    for (int i = 0; i < p->n; i++) {
        const int k = p->group_of_row[i];
        const int32_t *x = b->data.ivalues + (size_t)i * F;
        for (int j = 0; j < F; j++) {
            if (x[j] == BLOCK_INT_NA) continue;
            g->level_count[(size_t)k * g->n_levels_total + g->level_offset[j] +
                           x[j]]++;
            g->count[(size_t)k * F + j]++;
        }
    }
}

const block_ops_t block_dd_ops = {
    .kind = BLOCK_DIRICHLET_DISCRETE,
    .name = "dd",
    .grow = dd_grow,
    .clear_slot = dd_clear_slot,
    .add_row = dd_add_row,
    .remove_row = dd_remove_row,
    .score_all = dd_score_all,
    .score_slot = dd_score_slot,
    .score_slot_loo = dd_score_slot_loo,
    .group_log_marginal = dd_group_log_marginal,
    .rebuild = dd_rebuild,
    .set_hp = dd_set_hp,
    .gather = dd_gather,
    .gathered_log_marginal = dd_gathered_log_marginal,
    .hp_log_prior = dd_hp_log_prior,
    .hp_support = dd_hp_support,
    .n_stats = dd_n_stats,
    .get_stats = dd_get_stats,
    .check = dd_check,
    .free = dd_free,
    .cell_size = dd_cell_size,
    .log_predictive = dd_log_predictive,
    .mean_size = dd_mean_size,
    .predictive_mean = dd_predictive_mean,
    .sample_predictive = dd_sample_predictive,
    .hp_scale = dd_hp_scale,
    .set_stats = dd_set_stats,
    .copy_slot = dd_copy_slot,
    .merged_log_marginal = dd_merged_log_marginal,
    .recount = dd_recount,
};

int block_dd_setup(block_t *b, int capacity) {
    dd_t *g = ms_calloc(1, sizeof(dd_t));
    if (g == NULL) return MS_ERR_NOMEM;
    b->impl = g;
    const int F = b->n_features;
    g->level_offset = ms_malloc(sizeof(int) * (F + 1));
    g->alpha_sum = ms_malloc(sizeof(double) * (F + 1));
    g->row_at = ms_malloc(sizeof(int) * (F + 1));
    g->row_j = ms_malloc(sizeof(int) * (F + 1));
    if (g->level_offset == NULL || g->alpha_sum == NULL ||
        g->row_at == NULL || g->row_j == NULL)
        return MS_ERR_NOMEM;
    g->level_offset[0] = 0;
    for (int j = 0; j < F; j++) {
        g->level_offset[j + 1] = g->level_offset[j] + dd_k(b, j);
        if (dd_k(b, j) > g->max_levels) g->max_levels = dd_k(b, j);
        double total = 0.0;
        for (int l = 0; l < dd_k(b, j); l++) total += dd_hp(b, j)[l];
        g->alpha_sum[j] = total;
    }
    g->n_levels_total = g->level_offset[F];
    return dd_grow(b, 0, capacity > 0 ? capacity : 1);
}

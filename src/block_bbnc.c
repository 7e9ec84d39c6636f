/* The non-conjugate beta-Bernoulli block (bbnc; block_bbnc.h): counts,
 * explicit per-group p on the log scale, scores given p, the log joint's
 * terms and the hyperparameter kernel's target. Its non-conjugate
 * operations (auxiliary groups, the theta kernel's draws) are in
 * block_bbnc_aux.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "block_bbnc.h"
#include "block_kinds.h"
#include "block_util.h"
#include "status.h"

extern const block_ops_t block_bbnc_ops;

static inline double bbnc_alpha(const block_t *b, int j) {
    return b->hp[b->hp_offset[j]];
}
static inline double bbnc_beta(const block_t *b, int j) {
    return b->hp[b->hp_offset[j] + 1];
}

double bbnc_log_beta_density(double log_p, double log_1mp, double alpha,
                             double beta) {
    return (alpha - 1.0) * log_p + (beta - 1.0) * log_1mp -
           log_beta(alpha, beta);
}

int bbnc_gather_row(const block_t *b, int row) {
    bbnc_t *g = BBNC(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    int m = 0;
    for (int j = 0; j < F; j++) {
        if (x[j] == BLOCK_INT_NA) continue;
        g->row_j[m] = j;
        g->row_x[m++] = x[j];
    }
    return m;
}

/* The prior predictive logs [log(beta / (alpha + beta)), log(alpha /
 * (alpha + beta))] of feature j: what a slot without a parameter holds. */
static void bbnc_refresh_prior(block_t *b, int j) {
    bbnc_t *g = BBNC(b);
    const double a = bbnc_alpha(b, j), c = bbnc_beta(b, j);
    g->prior_table[2 * j] = log(c / (a + c));
    g->prior_table[2 * j + 1] = log(a / (a + c));
}

static void bbnc_slot_to_prior(bbnc_t *g, int F, int k) {
    memcpy(g->table + (size_t)k * F * 2, g->prior_table,
           sizeof(double) * 2 * (size_t)F);
    g->has_parameter[k] = 0;
}

static int bbnc_grow(block_t *b, int old_capacity, int new_capacity) {
    bbnc_t *g = BBNC(b);
    const size_t F = b->n_features;
    (void)old_capacity;
    const size_t old = g->capacity;
    if ((size_t)new_capacity <= old) return MS_OK;
    if (block_grow_array((void **)&g->heads, sizeof(int), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->tails, sizeof(int), old * F,
                         new_capacity * F) ||
        block_grow_array((void **)&g->table, sizeof(double), old * F * 2,
                         new_capacity * F * 2) ||
        block_grow_array((void **)&g->has_parameter, sizeof(char), old,
                         new_capacity))
        return MS_ERR_NOMEM;
    g->capacity = new_capacity;
    for (int k = (int)old; k < new_capacity; k++)
        bbnc_slot_to_prior(g, (int)F, k);
    return MS_OK;
}

static void bbnc_clear_slot(block_t *b, const partition_view_t *p, int k) {
    bbnc_t *g = BBNC(b);
    const int F = b->n_features;
    (void)p;
    memset(g->heads + (size_t)k * F, 0, sizeof(int) * (size_t)F);
    memset(g->tails + (size_t)k * F, 0, sizeof(int) * (size_t)F);
    bbnc_slot_to_prior(g, F, k);
}

/* Counts only: p does not move with the rows (the kernels draw it). */
static void bbnc_move(block_t *b, int row, int k, int sign) {
    bbnc_t *g = BBNC(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    for (int j = 0; j < F; j++) {
        if (x[j] == BLOCK_INT_NA) continue;
        if (x[j]) g->heads[(size_t)k * F + j] += sign;
        else g->tails[(size_t)k * F + j] += sign;
    }
}

static void bbnc_add_row(block_t *b, const partition_view_t *p, int row,
                         int k) {
    (void)p;
    bbnc_move(b, row, k, 1);
}

static void bbnc_remove_row(block_t *b, const partition_view_t *p, int row,
                            int k) {
    (void)p;
    bbnc_move(b, row, k, -1);
}

/* The row's gathered cells against slot k: one table load per cell. */
static inline double bbnc_score_tables(const bbnc_t *g, int F, int k, int m) {
    const double *t = g->table + (size_t)k * F * 2;
    double s = 0.0;
    for (int i = 0; i < m; i++) s += t[2 * g->row_j[i] + g->row_x[i]];
    return s;
}

/* A slot without p scores the collapsed predictive of its counts, p
 * integrated out, with `own` (0 or 1) of the row's cells counted in them
 * left out: for an empty slot the prior predictive its table holds; for a
 * group of a state built from an assignment alone (log_lik()'s states,
 * which know a draw's partition and hyperparameters but not its p's) the
 * leave-one-out predictive p(x_i | the group's other rows), the exact
 * marginal of bbnc's predictive over p. */
static double bbnc_score_collapsed(const block_t *b, int row, int k, int own) {
    const bbnc_t *g = BBNC(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    double s = 0.0;
    for (int j = 0; j < F; j++) {
        if (x[j] == BLOCK_INT_NA) continue;
        const size_t at = (size_t)k * F + j;
        const double a = bbnc_alpha(b, j) + g->heads[at] - (own && x[j]);
        const double c = bbnc_beta(b, j) + g->tails[at] - (own && !x[j]);
        s += log((x[j] ? a : c) / (a + c));
    }
    return s;
}

static void bbnc_score_all(block_t *b, const partition_view_t *p, int row,
                           double *scores, int accumulate) {
    const bbnc_t *g = BBNC(b);
    const int F = b->n_features;
    const int m = bbnc_gather_row(b, row);
    for (int a = 0; a <= p->n_active; a++) {
        const int k = a < p->n_active ? p->active[a] : p->ghost;
        const double s = g->has_parameter[k] || p->size[k] == 0
                             ? bbnc_score_tables(g, F, k, m)
                             : bbnc_score_collapsed(b, row, k, k == p->group_of_row[row]);
        scores[k] = accumulate ? scores[k] + s : s;
    }
}

/* Given p the row's score does not depend on whether it is counted. */
static double bbnc_score_given_p(const block_t *b, int row, int k) {
    const bbnc_t *g = BBNC(b);
    const int F = b->n_features;
    const int32_t *x = b->data.ivalues + (size_t)row * F;
    const double *t = g->table + (size_t)k * F * 2;
    double s = 0.0;
    for (int j = 0; j < F; j++)
        if (x[j] != BLOCK_INT_NA) s += t[2 * j + x[j]];
    return s;
}

static double bbnc_score_slot(const block_t *b, const partition_view_t *p,
                              int row, int k) {
    (void)p;
    return BBNC(b)->has_parameter[k] ? bbnc_score_given_p(b, row, k)
                                     : bbnc_score_collapsed(b, row, k, 0);
}

static double bbnc_score_slot_loo(const block_t *b, const partition_view_t *p,
                                  int row, int k) {
    (void)p;
    return BBNC(b)->has_parameter[k] ? bbnc_score_given_p(b, row, k)
                                     : bbnc_score_collapsed(b, row, k, 1);
}

/* log p(counts | p) + log Beta(p | alpha, beta) for each feature: the log
 * joint's term of the group (p explicit). A slot with rows but no
 * parameter (never reached by the kernels) scores the collapsed marginal,
 * p integrated out. */
static double bbnc_group_log_marginal(const block_t *b,
                                      const partition_view_t *p, int k) {
    const bbnc_t *g = BBNC(b);
    const int F = b->n_features;
    (void)p;
    double s = 0.0;
    for (int j = 0; j < F; j++) {
        const size_t at = (size_t)k * F + j;
        const int h = g->heads[at], t = g->tails[at];
        const double a = bbnc_alpha(b, j), c = bbnc_beta(b, j);
        if (!g->has_parameter[k]) {
            s += log_beta(a + h, c + t) - log_beta(a, c);
            continue;
        }
        const double log_1mp = g->table[2 * at], log_p = g->table[2 * at + 1];
        if (h > 0) s += h * log_p;
        if (t > 0) s += t * log_1mp;
        s += bbnc_log_beta_density(log_p, log_1mp, a, c);
    }
    return s;
}

/* The hyperparameters changed (or a recount left slots without p): the
 * prior predictive of every slot without a parameter. Explicit p's are
 * kept: they are part of the state, not a table of the hyperparameters. */
static int bbnc_rebuild(block_t *b, const partition_view_t *p) {
    bbnc_t *g = BBNC(b);
    const int F = b->n_features;
    (void)p;
    for (int j = 0; j < F; j++) bbnc_refresh_prior(b, j);
    for (int k = 0; k < g->capacity; k++)
        if (!g->has_parameter[k]) bbnc_slot_to_prior(g, F, k);
    return MS_OK;
}

static void bbnc_set_hp(block_t *b, int j, const double *hp) {
    b->hp[b->hp_offset[j]] = hp[0];
    b->hp[b->hp_offset[j] + 1] = hp[1];
}

/* The hyperparameter kernel's target is sum_k log Beta(p_k | alpha,
 * beta) over the active groups: given the explicit p's it needs only
 * their two sums of logs and their number. */
static void bbnc_gather(block_t *b, const partition_view_t *p, int j) {
    bbnc_t *g = BBNC(b);
    const int F = b->n_features;
    double sum_log_p = 0.0, sum_log_1mp = 0.0;
    int m = 0;
    for (int a = 0; a < p->n_active; a++) {
        const int k = p->active[a];
        if (!g->has_parameter[k]) continue;
        const size_t at = (size_t)k * F + j;
        sum_log_1mp += g->table[2 * at];
        sum_log_p += g->table[2 * at + 1];
        m++;
    }
    g->gathered[0] = sum_log_p;
    g->gathered[1] = sum_log_1mp;
    g->n_gathered = m;
}

static double bbnc_gathered_log_marginal(const block_t *b, int j,
                                         const double *hp) {
    const bbnc_t *g = BBNC(b);
    (void)j;
    if (g->n_gathered == 0) return 0.0;
    return (hp[0] - 1.0) * g->gathered[0] + (hp[1] - 1.0) * g->gathered[1] -
           g->n_gathered * log_beta(hp[0], hp[1]);
}

/* beta_bernoulli()'s default prior: (alpha + beta)^(-5/2) on the box
 * (0.01, 1000)^2 (prior_noninformative_beta(); Gelman et al., BDA 5.3). */
static double bbnc_hp_log_prior(const block_t *b, int j, int c,
                                double value) {
    const double other = b->hp[b->hp_offset[j] + 1 - c];
    if (!(value > BBNC_PRIOR_LOWER && value < BBNC_PRIOR_UPPER))
        return -INFINITY;
    return -2.5 * log(value + other);
}

static void bbnc_hp_support(const block_t *b, int j, int c, double *lower,
                            double *upper) {
    (void)b, (void)j, (void)c;
    *lower = BBNC_PRIOR_LOWER;
    *upper = BBNC_PRIOR_UPPER;
}

/* heads, tails, p, log p, log(1 - p): the counts, and the parameter as
 * the sampler holds it (its two logs; p = exp(log p) for reading). */
static int bbnc_n_stats(const block_t *b, int j) {
    (void)b, (void)j;
    return 5;
}

/* A group without p (a state just built from an assignment) reports the
 * posterior mean (alpha + h) / (alpha + beta + h + t): what a state made
 * by initialize_state() holds, so that a chain starts there. */
static void bbnc_get_stats(const block_t *b, int k, int j, double *out) {
    const bbnc_t *g = BBNC(b);
    const size_t at = (size_t)k * b->n_features + j;
    out[0] = g->heads[at];
    out[1] = g->tails[at];
    if (g->has_parameter[k]) {
        out[3] = g->table[2 * at + 1];
        out[4] = g->table[2 * at];
    } else {
        const double a = bbnc_alpha(b, j) + g->heads[at];
        const double c = bbnc_beta(b, j) + g->tails[at];
        out[3] = log(a / (a + c));
        out[4] = log(c / (a + c));
    }
    out[2] = exp(out[3]);
}

/* The counts (checked against a recount by the glue) and p's two logs as
 * they were held; the p column is only for reading. */
static void bbnc_set_stats(block_t *b, int k, int j, const double *in) {
    bbnc_t *g = BBNC(b);
    const size_t at = (size_t)k * b->n_features + j;
    g->heads[at] = (int)in[0];
    g->tails[at] = (int)in[1];
    g->table[2 * at + 1] = in[3];
    g->table[2 * at] = in[4];
    g->has_parameter[k] = 1;
}

static int close_to(double a, double b) {
    return fabs(a - b) <= 1e-9 * (1.0 + fabs(a) + fabs(b));
}

static const char *bbnc_check(const block_t *b, const partition_view_t *p) {
    static const char *const messages[] = {
        "bbnc: a slot's heads or tails differ from a recount",
        "bbnc: a group's log p and log(1 - p) do not describe one p",
        "bbnc: a slot without p does not hold the prior predictive",
        "bbnc: out of memory"};
    const bbnc_t *g = BBNC(b);
    const int F = b->n_features;
    const size_t cells = (size_t)p->slot_span * F;
    int *heads = ms_calloc(cells + 1, sizeof(int));
    int *tails = ms_calloc(cells + 1, sizeof(int));
    const char *problem = NULL;
    if (heads == NULL || tails == NULL) {
        problem = messages[3];
        goto done;
    }
    for (int i = 0; i < p->n; i++) {
        const int k = p->group_of_row[i];
        if (k < 0) continue;
        for (int j = 0; j < F; j++) {
            const int32_t x = b->data.ivalues[(size_t)i * F + j];
            if (x == BLOCK_INT_NA) continue;
            if (x) heads[(size_t)k * F + j]++;
            else tails[(size_t)k * F + j]++;
        }
    }
    for (int k = 0; k < p->slot_span && problem == NULL; k++) {
        for (int j = 0; j < F && problem == NULL; j++) {
            const size_t at = (size_t)k * F + j;
            if (heads[at] != g->heads[at] || tails[at] != g->tails[at])
                problem = messages[0];
            else if (g->has_parameter[k] &&
                     !(g->table[2 * at] <= 0 && g->table[2 * at + 1] <= 0 &&
                       close_to(exp(g->table[2 * at]) +
                                    exp(g->table[2 * at + 1]), 1.0)))
                problem = messages[1];
            else if (!g->has_parameter[k] &&
                     (!close_to(g->table[2 * at], g->prior_table[2 * j]) ||
                      !close_to(g->table[2 * at + 1],
                                g->prior_table[2 * j + 1])))
                problem = messages[2];
        }
    }
done:
    free(heads);
    free(tails);
    return problem;
}

static void bbnc_free(block_t *b) {
    bbnc_t *g = BBNC(b);
    if (g != NULL) {
        free(g->heads);
        free(g->tails);
        free(g->table);
        free(g->has_parameter);
        free(g->prior_table);
        free(g->aux_table);
        free(g->gathered);
        free(g->row_j);
        free(g->row_x);
        free(g);
    }
    block_free_common(b);
}

static int bbnc_cell_size(const block_t *b, int j) {
    (void)b, (void)j;
    return 1;
}

/* Given a group: Bernoulli(p) with its explicit p; an empty slot (a new
 * group): the prior predictive, P(x = 1) = alpha / (alpha + beta). */
static double bbnc_log_predictive(const block_t *b, int k, int j,
                                  const double *cell) {
    const bbnc_t *g = BBNC(b);
    const double *t = g->table + ((size_t)k * b->n_features + j) * 2;
    if (cell[0] == 1.0) return t[1];
    if (cell[0] == 0.0) return t[0];
    return -INFINITY;
}

static void bbnc_predictive_mean(const block_t *b, int k, int j,
                                 double *out) {
    const bbnc_t *g = BBNC(b);
    out[0] = exp(g->table[((size_t)k * b->n_features + j) * 2 + 1]);
}

static void bbnc_sample_predictive(const block_t *b, int k, int j,
                                   rng_t *rng, double *out) {
    double mean;
    bbnc_predictive_mean(b, k, j, &mean);
    out[0] = rng_unif(rng) < mean ? 1.0 : 0.0;
}

static double bbnc_hp_scale(const block_t *b, int j, int c) {
    (void)b, (void)j, (void)c;
    return 1.0;
}

/* Slot compaction: counts, p and whether there is one. */
static void bbnc_copy_slot(block_t *b, const partition_view_t *p, int from,
                           int to) {
    bbnc_t *g = BBNC(b);
    const size_t F = b->n_features;
    (void)p;
    memcpy(g->heads + to * F, g->heads + from * F, F * sizeof(int));
    memcpy(g->tails + to * F, g->tails + from * F, F * sizeof(int));
    memcpy(g->table + to * F * 2, g->table + from * F * 2,
           F * 2 * sizeof(double));
    g->has_parameter[to] = g->has_parameter[from];
}

/* Every row counted into its slot; no slot keeps a p (a state built from
 * an assignment: its groups score collapsed until their p is set). */
static void bbnc_recount(block_t *b, const partition_view_t *p) {
    bbnc_t *g = BBNC(b);
    const int F = b->n_features;
    memset(g->heads, 0, (size_t)g->capacity * F * sizeof(int));
    memset(g->tails, 0, (size_t)g->capacity * F * sizeof(int));
    memset(g->has_parameter, 0, (size_t)g->capacity);
    for (int i = 0; i < p->n; i++) {
        const int k = p->group_of_row[i];
        const int32_t *x = b->data.ivalues + (size_t)i * F;
        for (int j = 0; j < F; j++) {
            if (x[j] == BLOCK_INT_NA) continue;
            if (x[j]) g->heads[(size_t)k * F + j]++;
            else g->tails[(size_t)k * F + j]++;
        }
    }
}

/* block_bbnc_aux.c */
int bbnc_reserve_auxiliary(block_t *b, int m);
void bbnc_draw_auxiliary(block_t *b, int a, rng_t *rng);
void bbnc_auxiliary_from_slot(block_t *b, int a, int k);
void bbnc_score_auxiliary(block_t *b, int row, int m, double *scores,
                          int accumulate);
void bbnc_adopt_auxiliary(block_t *b, int a, int k);
void bbnc_draw_slot_parameters(block_t *b, const partition_view_t *p, int k,
                               rng_t *rng);

const block_ops_t block_bbnc_ops = {
    .kind = BLOCK_BETA_BERNOULLI_NONCONJ,
    .name = "bbnc",
    .grow = bbnc_grow,
    .clear_slot = bbnc_clear_slot,
    .add_row = bbnc_add_row,
    .remove_row = bbnc_remove_row,
    .score_all = bbnc_score_all,
    .score_slot = bbnc_score_slot,
    .score_slot_loo = bbnc_score_slot_loo,
    .group_log_marginal = bbnc_group_log_marginal,
    .rebuild = bbnc_rebuild,
    .set_hp = bbnc_set_hp,
    .gather = bbnc_gather,
    .gathered_log_marginal = bbnc_gathered_log_marginal,
    .hp_log_prior = bbnc_hp_log_prior,
    .hp_support = bbnc_hp_support,
    .n_stats = bbnc_n_stats,
    .get_stats = bbnc_get_stats,
    .check = bbnc_check,
    .free = bbnc_free,
    .copy_slot = bbnc_copy_slot,
    /* No merged_log_marginal: split-merge's collapsed ratio does not
     * exist for explicit parameters (DECISIONS.md). */
    .merged_log_marginal = NULL,
    .recount = bbnc_recount,
    .cell_size = bbnc_cell_size,
    .log_predictive = bbnc_log_predictive,
    .mean_size = bbnc_cell_size,
    .predictive_mean = bbnc_predictive_mean,
    .sample_predictive = bbnc_sample_predictive,
    .hp_scale = bbnc_hp_scale,
    .set_stats = bbnc_set_stats,
    .reserve_auxiliary = bbnc_reserve_auxiliary,
    .draw_auxiliary = bbnc_draw_auxiliary,
    .auxiliary_from_slot = bbnc_auxiliary_from_slot,
    .score_auxiliary = bbnc_score_auxiliary,
    .adopt_auxiliary = bbnc_adopt_auxiliary,
    .draw_slot_parameters = bbnc_draw_slot_parameters,
};

int block_bbnc_setup(block_t *b, int capacity) {
    bbnc_t *g = ms_calloc(1, sizeof(bbnc_t));
    if (g == NULL) return MS_ERR_NOMEM;
    b->impl = g;
    const int F = b->n_features;
    g->row_j = ms_malloc(sizeof(int) * (F + 1));
    g->row_x = ms_malloc(sizeof(int) * (F + 1));
    g->prior_table = ms_malloc(sizeof(double) * 2 * (F + 1));
    g->gathered = ms_malloc(sizeof(double) * 2);
    if (g->row_j == NULL || g->row_x == NULL || g->prior_table == NULL ||
        g->gathered == NULL)
        return MS_ERR_NOMEM;
    for (int j = 0; j < F; j++) bbnc_refresh_prior(b, j);
    return bbnc_grow(b, 0, capacity > 0 ? capacity : 1);
}

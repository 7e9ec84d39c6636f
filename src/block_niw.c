/* The normal-inverse-Wishart block (block_niw.h): statistics, the rank-one
 * updates of each slot's cached factor when a row moves, slots, stats in
 * and out, setup and the operations table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "block_kinds.h"
#include "block_niw.h"
#include "block_util.h"
#include "log_gamma.h"
#include "status.h"

/* Operations of the other niw files, for the table at the end. */
void niw_score_all(block_t *b, const partition_view_t *p, int row,
                   double *scores, int accumulate);
double niw_score_slot(const block_t *b, const partition_view_t *p, int row,
                      int k);
double niw_score_slot_loo(const block_t *b, const partition_view_t *p,
                          int row, int k);
double niw_group_log_marginal(const block_t *b, const partition_view_t *p,
                              int k);
double niw_merged_log_marginal(const block_t *b, const partition_view_t *p,
                               int k1, int k2);
void niw_gather(block_t *b, const partition_view_t *p, int j);
double niw_gathered_log_marginal(const block_t *b, int j, const double *hp);
double niw_hp_log_prior(const block_t *b, int j, int c, double value);
void niw_hp_support(const block_t *b, int j, int c, double *lower,
                    double *upper);
double niw_hp_scale(const block_t *b, int j, int c);
int niw_hp_fixed(const block_t *b, int j, int c);
double niw_log_predictive(const block_t *b, int k, int j, const double *cell);
void niw_predictive_mean(const block_t *b, int k, int j, double *out);
void niw_sample_predictive(const block_t *b, int k, int j, rng_t *rng,
                           double *out);
void niw_conditional_mean(const block_t *b, int k, int j, const double *cell,
                          double *out);
void niw_sample_conditional(const block_t *b, int k, int j,
                            const double *cell, rng_t *rng, double *out);
const char *niw_check(const block_t *b, const partition_view_t *p);

const double *niw_cell(const block_t *b, const niw_feature_t *f, int row) {
    if (f->latent_of_row != NULL && f->latent_of_row[row] >= 0)
        return f->latent_cells + (size_t)f->latent_of_row[row] * f->dim;
    const double *x = niw_data_cell(b, f, row);
    for (int i = 0; i < f->dim; i++)
        if (isnan(x[i])) return NULL;
    return x;
}

void niw_posterior_scale(const double *hp, int d, double n,
                         const double *mean, const double *scatter,
                         double *out) {
    const double lambda = hp[niw_hp_lambda(d)];
    const double *mu0 = hp, *psi = hp + niw_hp_psi(d);
    const double w = n > 0 ? lambda * n / (lambda + n) : 0.0;
    for (int r = 0; r < d; r++)
        for (int c = 0; c <= r; c++) {
            /* psi is column-major, symmetric: read its lower triangle. */
            double v = psi[(size_t)r + (size_t)c * d];
            if (n > 0)
                v += scatter[(size_t)r * d + c] +
                     w * (mean[r] - mu0[r]) * (mean[c] - mu0[c]);
            out[(size_t)r * d + c] = v;
            out[(size_t)c * d + r] = v;
        }
}

/* C = log Gamma((nu_n + 1) / 2) - log Gamma((nu_n - d + 1) / 2)
 *     - d / 2 log(pi) - log |Psi_n| / 2 - d / 2 log((lambda_n + 1) / lambda_n),
 * the Student t's constant with its degrees of freedom nu_n - d + 1
 * cancelled against the scale's factor 1 / (nu_n - d + 1). */
void niw_table_finish(const double *hp, int d, double n, const double *mean,
                      double *table) {
    const double lambda = hp[niw_hp_lambda(d)], nu = hp[niw_hp_nu(d)];
    const double lambda_n = lambda + n, nu_n = nu + n;
    double *mu_n = table + NIW_SCALARS, *inv_diag = mu_n + d,
           *L = inv_diag + d;
    double *M = L + (size_t)d * d;
    for (int i = 0; i < d; i++) {
        mu_n[i] = n > 0 ? (lambda * hp[i] + n * mean[i]) / lambda_n : hp[i];
        inv_diag[i] = 1.0 / L[(size_t)i * d + i];
        for (int k = 0; k < d; k++)
            M[(size_t)i * d + k] = k < i ? L[(size_t)i * d + k] * inv_diag[i] : 0.0;
    }
    const double log_det = niw_log_det_from_factor(L, d);
    table[NIW_LOG_DET] = log_det;
    table[NIW_SHRINK] = lambda_n / (lambda_n + 1.0);
    table[NIW_HALF_NU1] = 0.5 * (nu_n + 1.0);
    table[NIW_C] = log_gamma(0.5 * (nu_n + 1.0)) -
                   log_gamma(0.5 * (nu_n - d + 1.0)) - 0.5 * d * NIW_LOG_PI -
                   0.5 * log_det - 0.5 * d * log((lambda_n + 1.0) / lambda_n);
}

int niw_table_from_stats(const double *hp, int d, double n,
                         const double *mean, const double *scatter,
                         double *table) {
    double *L = table + NIW_SCALARS + 2 * (size_t)d;
    niw_posterior_scale(hp, d, n, mean, scatter, L);
    if (niw_cholesky(L, d) != 0) return -1;
    niw_table_finish(hp, d, n, mean, table);
    return 0;
}

int niw_prior_refresh(block_t *b, int j) {
    niw_feature_t *f = &NIW(b)->features[j];
    if (niw_table_from_stats(niw_hp(b, j), f->dim, 0, NULL, NULL,
                             f->prior_table) != 0)
        return MS_ERR_NUMERIC;
    f->log_det_psi = f->prior_table[NIW_LOG_DET];
    return MS_OK;
}

static double *slot_table(const niw_feature_t *f, int k) {
    return f->table + (size_t)k * niw_table_size(f->dim);
}

static void set_empty(niw_feature_t *f, int k) {
    const int d = f->dim;
    f->count[k] = 0;
    memset(f->mean + (size_t)k * d, 0, sizeof(double) * d);
    memset(f->scatter + (size_t)k * d * d, 0, sizeof(double) * d * d);
    memcpy(slot_table(f, k), f->prior_table,
           sizeof(double) * niw_table_size(d));
}

/* Slot k's table afresh from its statistics (the fallback of an ill
 * conditioned downdate, rebuild and set_stats). Psi_n is positive
 * definite whenever psi is, so a failure means psi itself is not: then
 * the table stays that of the prior factor plus nothing, and check()
 * reports it. */
static void refactorise(const block_t *b, int j, int k) {
    niw_feature_t *f = &NIW(b)->features[j];
    const int d = f->dim;
    if (f->count[k] == 0) {
        memcpy(slot_table(f, k), f->prior_table,
               sizeof(double) * niw_table_size(d));
        return;
    }
    (void)niw_table_from_stats(niw_hp(b, j), d, f->count[k],
                               f->mean + (size_t)k * d,
                               f->scatter + (size_t)k * d * d,
                               slot_table(f, k));
}

/* Welford's recurrences for a vector and its scatter matrix:
 * in:  S += (n - 1) / n (x - mean_old)(x - mean_old)',
 * out: S -= n / (n - 1) (x - mean_old)(x - mean_old)' (n before the move),
 * each the symmetric form of (x - mean_old)(x - mean_new)'. */
static void welford_in(niw_feature_t *f, int k, const double *x,
                       double *delta) {
    const int d = f->dim;
    double *mean = f->mean + (size_t)k * d, *S = f->scatter + (size_t)k * d * d;
    const int n = ++f->count[k];
    const double w = (n - 1.0) / n;
    for (int i = 0; i < d; i++) {
        delta[i] = x[i] - mean[i];
        mean[i] += delta[i] / n;
    }
    for (int r = 0; r < d; r++)
        for (int c = 0; c <= r; c++) {
            const double v = S[(size_t)r * d + c] + w * delta[r] * delta[c];
            S[(size_t)r * d + c] = v;
            S[(size_t)c * d + r] = v;
        }
}

static void welford_out(niw_feature_t *f, int k, const double *x,
                        double *delta) {
    const int d = f->dim;
    double *mean = f->mean + (size_t)k * d, *S = f->scatter + (size_t)k * d * d;
    const int n = f->count[k]--;
    const double w = (double)n / (n - 1.0);
    for (int i = 0; i < d; i++) {
        delta[i] = x[i] - mean[i];
        mean[i] -= delta[i] / (n - 1.0);
    }
    for (int r = 0; r < d; r++)
        for (int c = 0; c <= r; c++) {
            const double v = S[(size_t)r * d + c] - w * delta[r] * delta[c];
            S[(size_t)r * d + c] = v;
            S[(size_t)c * d + r] = v;
        }
    /* A scatter is positive semidefinite: its diagonal never below 0. */
    for (int i = 0; i < d; i++)
        if (S[(size_t)i * d + i] < 0) S[(size_t)i * d + i] = 0.0;
}

/* Psi_n moves by a rank-one term when a row x comes in or goes out (mu_n
 * the location before the move):
 *   in:  Psi_{n+1} = Psi_n + lambda_n / (lambda_n + 1) (x - mu_n)(x - mu_n)',
 *   out: Psi_{n-1} = Psi_n - lambda_n / (lambda_n - 1) (x - mu_n)(x - mu_n)'
 * (the second is the first solved for Psi_n, with x - mu_{n-1} = lambda_n
 * / (lambda_n - 1) (x - mu_n)). So L is updated or downdated by v = sqrt(
 * that factor) (x - mu_n). */
void niw_add_cell(block_t *b, int j, int k, const double *x) {
    niw_t *g = NIW(b);
    niw_feature_t *f = &g->features[j];
    const int d = f->dim;
    double *t = slot_table(f, k), *v = g->scratch;
    const double *mu_n = t + NIW_SCALARS;
    const double root = sqrt(t[NIW_SHRINK]);
    for (int i = 0; i < d; i++) v[i] = root * (x[i] - mu_n[i]);
    niw_chol_update(t + NIW_SCALARS + 2 * (size_t)d, d, v);
    welford_in(f, k, x, v);
    niw_table_finish(niw_hp(b, j), d, f->count[k], f->mean + (size_t)k * d,
                     t);
}

void niw_remove_cell(block_t *b, int j, int k, const double *x) {
    niw_t *g = NIW(b);
    niw_feature_t *f = &g->features[j];
    const int d = f->dim;
    if (f->count[k] <= 1) {
        set_empty(f, k);
        return;
    }
    double *t = slot_table(f, k), *v = g->scratch;
    const double *mu_n = t + NIW_SCALARS;
    const double lambda_n = niw_hp(b, j)[niw_hp_lambda(d)] + f->count[k];
    const double root = sqrt(lambda_n / (lambda_n - 1.0));
    for (int i = 0; i < d; i++) v[i] = root * (x[i] - mu_n[i]);
    const int downdated = niw_chol_downdate(t + NIW_SCALARS + 2 * (size_t)d,
                                            d, v, g->scratch + d);
    welford_out(f, k, x, v);
    if (downdated == 0) {
        niw_table_finish(niw_hp(b, j), d, f->count[k],
                         f->mean + (size_t)k * d, t);
    } else {
        g->refactorisations++;
        refactorise(b, j, k);
    }
}

static void niw_add_row(block_t *b, const partition_view_t *p, int row,
                        int k) {
    (void)p;
    for (int j = 0; j < b->n_features; j++) {
        const double *x = niw_cell(b, &NIW(b)->features[j], row);
        if (x != NULL) niw_add_cell(b, j, k, x);
    }
}

static void niw_remove_row(block_t *b, const partition_view_t *p, int row,
                           int k) {
    (void)p;
    for (int j = 0; j < b->n_features; j++) {
        const double *x = niw_cell(b, &NIW(b)->features[j], row);
        if (x != NULL) niw_remove_cell(b, j, k, x);
    }
}

static int niw_grow(block_t *b, int old_capacity, int new_capacity) {
    niw_t *g = NIW(b);
    (void)old_capacity;
    const size_t old = g->capacity;
    if ((size_t)new_capacity <= old) return MS_OK;
    for (int j = 0; j < b->n_features; j++) {
        niw_feature_t *f = &g->features[j];
        const size_t d = f->dim;
        if (block_grow_array((void **)&f->count, sizeof(int), old,
                             new_capacity) ||
            block_grow_array((void **)&f->mean, sizeof(double), old * d,
                             new_capacity * d) ||
            block_grow_array((void **)&f->scatter, sizeof(double),
                             old * d * d, new_capacity * d * d) ||
            block_grow_array((void **)&f->table, sizeof(double),
                             old * niw_table_size(d),
                             new_capacity * niw_table_size(d)) ||
            block_grow_array((void **)&f->gathered, sizeof(double),
                             old * (3 + d + d * d),
                             new_capacity * (3 + d + d * d)))
            return MS_ERR_NOMEM;
    }
    /* Every feature grew: only now is the new capacity true of all. */
    for (int j = 0; j < b->n_features; j++)
        for (int k = (int)old; k < new_capacity; k++)
            set_empty(&g->features[j], k);
    g->capacity = new_capacity;
    return MS_OK;
}

static void niw_clear_slot(block_t *b, const partition_view_t *p, int k) {
    (void)p;
    for (int j = 0; j < b->n_features; j++) set_empty(&NIW(b)->features[j], k);
}

/* Every slot's table after the hyperparameters changed: the prior's
 * first (an empty slot copies it), then each slot in use refactorised
 * from its statistics, which also resets the rounding the updates and
 * downdates have accumulated. */
static int niw_rebuild(block_t *b, const partition_view_t *p) {
    niw_t *g = NIW(b);
    (void)p;
    int status = MS_OK;
    for (int j = 0; j < b->n_features; j++) {
        if (niw_prior_refresh(b, j) != MS_OK) status = MS_ERR_NUMERIC;
        for (int k = 0; k < g->capacity; k++) refactorise(b, j, k);
    }
    return status;
}

static void niw_set_hp(block_t *b, int j, const double *hp) {
    const int n = niw_n_hp(NIW(b)->features[j].dim);
    memcpy(b->hp + b->hp_offset[j], hp, sizeof(double) * n);
}

/* Statistics as the sampler holds them: n, the mean (d) and the scatter
 * matrix (d x d, column-major = row-major, it is symmetric). */
static int niw_n_stats(const block_t *b, int j) {
    const int d = NIW(b)->features[j].dim;
    return 1 + d + d * d;
}

static void niw_get_stats(const block_t *b, int k, int j, double *out) {
    const niw_feature_t *f = &NIW(b)->features[j];
    const int d = f->dim;
    out[0] = f->count[k];
    memcpy(out + 1, f->mean + (size_t)k * d, sizeof(double) * d);
    memcpy(out + 1 + d, f->scatter + (size_t)k * d * d,
           sizeof(double) * d * d);
}

/* The table follows from the statistics by one factorisation: a resumed
 * chain's factor differs from the one the sampler held by the rounding of
 * its updates (as after every rebuild), not in what it factorises. */
static void niw_set_stats(block_t *b, int k, int j, const double *in) {
    niw_feature_t *f = &NIW(b)->features[j];
    const int d = f->dim;
    f->count[k] = (int)in[0];
    memcpy(f->mean + (size_t)k * d, in + 1, sizeof(double) * d);
    memcpy(f->scatter + (size_t)k * d * d, in + 1 + d, sizeof(double) * d * d);
    refactorise(b, j, k);
}

static void niw_copy_slot(block_t *b, const partition_view_t *p, int from,
                          int to) {
    (void)p;
    for (int j = 0; j < b->n_features; j++) {
        niw_feature_t *f = &NIW(b)->features[j];
        const size_t d = f->dim;
        f->count[to] = f->count[from];
        memcpy(f->mean + to * d, f->mean + from * d, sizeof(double) * d);
        memcpy(f->scatter + to * d * d, f->scatter + from * d * d,
               sizeof(double) * d * d);
        memcpy(slot_table(f, to), slot_table(f, from),
               sizeof(double) * niw_table_size(d));
    }
}

/* Statistics only, by the same recurrences as add_row (rebuild follows). */
static void niw_recount(block_t *b, const partition_view_t *p) {
    niw_t *g = NIW(b);
    for (int j = 0; j < b->n_features; j++) {
        niw_feature_t *f = &g->features[j];
        const size_t d = f->dim;
        memset(f->count, 0, sizeof(int) * g->capacity);
        memset(f->mean, 0, sizeof(double) * g->capacity * d);
        memset(f->scatter, 0, sizeof(double) * g->capacity * d * d);
        for (int i = 0; i < p->n; i++) {
            const int k = p->group_of_row[i];
            const double *x = niw_cell(b, f, i);
            if (k < 0 || x == NULL) continue;
            welford_in(f, k, x, g->scratch);
        }
    }
}

static int niw_cell_size(const block_t *b, int j) {
    return NIW(b)->features[j].dim;
}

static void niw_free(block_t *b) {
    niw_t *g = NIW(b);
    if (g != NULL) {
        if (g->features != NULL)
            for (int j = 0; j < b->n_features; j++) {
                niw_feature_t *f = &g->features[j];
                free(f->count);
                free(f->mean);
                free(f->scatter);
                free(f->table);
                free(f->prior_table);
                free(f->location);
                free(f->scale);
                free(f->gathered);
                free(f->gathered_hp);
                free(f->latent_row);
                free(f->latent_of_row);
                free(f->latent_cells);
            }
        free(g->features);
        free(g->scratch);
        free(g);
    }
    block_free_common(b);
}

const block_ops_t block_niw_ops = {
    .kind = BLOCK_NORMAL_INVERSE_WISHART,
    .name = "niw",
    .grow = niw_grow,
    .clear_slot = niw_clear_slot,
    .add_row = niw_add_row,
    .remove_row = niw_remove_row,
    .score_all = niw_score_all,
    .score_slot = niw_score_slot,
    .score_slot_loo = niw_score_slot_loo,
    .group_log_marginal = niw_group_log_marginal,
    .rebuild = niw_rebuild,
    .set_hp = niw_set_hp,
    .gather = niw_gather,
    .gathered_log_marginal = niw_gathered_log_marginal,
    .hp_log_prior = niw_hp_log_prior,
    .hp_support = niw_hp_support,
    .n_stats = niw_n_stats,
    .get_stats = niw_get_stats,
    .check = niw_check,
    .free = niw_free,
    .copy_slot = niw_copy_slot,
    .merged_log_marginal = niw_merged_log_marginal,
    .recount = niw_recount,
    .cell_size = niw_cell_size,
    .log_predictive = niw_log_predictive,
    .mean_size = niw_cell_size,
    .predictive_mean = niw_predictive_mean,
    .sample_predictive = niw_sample_predictive,
    .hp_scale = niw_hp_scale,
    .set_stats = niw_set_stats,
    .hp_fixed = niw_hp_fixed,
    .conditional_mean = niw_conditional_mean,
    .sample_conditional = niw_sample_conditional,
    .n_latent = niw_n_latent,
    .get_latent = niw_get_latent,
    .set_latent = niw_set_latent,
    .resample_latent = niw_resample_latent,
};

/* Each feature's observed mean and sd per coordinate over complete cells
 * (the default prior's and check's scales), with block_util.c's
 * fallbacks. */
static void coordinate_location_scale(const block_t *b, niw_feature_t *f) {
    const int d = f->dim;
    for (int i = 0; i < d; i++) {
        double sum = 0.0, squares = 0.0;
        long count = 0;
        for (int pass = 0; pass < 2; pass++)
            for (int r = 0; r < b->data.n; r++) {
                const double *x = niw_cell(b, f, r);
                if (x == NULL) continue;
                if (pass == 0) {
                    sum += x[i];
                    count++;
                } else {
                    const double dev = x[i] - sum / count;
                    squares += dev * dev;
                }
            }
        const double mean = count > 0 ? sum / count : 0.0;
        double sd = count > 0 ? sqrt(squares / count) : 1.0;
        if (!(sd > 0)) sd = mean != 0 ? fabs(mean) : 1.0;
        f->location[i] = mean;
        f->scale[i] = sd;
    }
}

int block_niw_setup(block_t *b, int capacity) {
    niw_t *g = ms_calloc(1, sizeof(niw_t));
    if (g == NULL) return MS_ERR_NOMEM;
    b->impl = g;
    const int F = b->n_features;
    g->features = ms_calloc((size_t)(F > 0 ? F : 1), sizeof(niw_feature_t));
    if (g->features == NULL) return MS_ERR_NOMEM;
    int column = 0;
    g->max_dim = 1;
    for (int j = 0; j < F; j++) {
        niw_feature_t *f = &g->features[j];
        f->dim = b->data.cell_width != NULL ? b->data.cell_width[j] : 1;
        f->column = column;
        column += f->dim;
        if (f->dim > g->max_dim) g->max_dim = f->dim;
        const size_t d = f->dim;
        f->prior_table = ms_malloc(sizeof(double) * niw_table_size(f->dim));
        f->location = ms_malloc(sizeof(double) * d);
        f->scale = ms_malloc(sizeof(double) * d);
        f->gathered_hp = ms_malloc(sizeof(double) * (d + d * d));
        if (f->prior_table == NULL || f->location == NULL ||
            f->scale == NULL || f->gathered_hp == NULL)
            return MS_ERR_NOMEM;
    }
    const size_t m = g->max_dim;
    g->scratch = ms_malloc(sizeof(double) * (6 * m * m + 8 * m));
    if (g->scratch == NULL) return MS_ERR_NOMEM;
    for (int j = 0; j < F; j++) {
        /* Over complete cells, before the latent ones exist. */
        coordinate_location_scale(b, &g->features[j]);
        int status = niw_latent_setup(b, &g->features[j]);
        if (status != MS_OK) return status;
        if (niw_prior_refresh(b, j) != MS_OK) return MS_ERR_NUMERIC;
    }
    return niw_grow(b, 0, capacity > 0 ? capacity : 1);
}

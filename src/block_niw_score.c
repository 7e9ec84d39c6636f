/* Scores and log marginals of the niw block (block_niw.h). A score of a
 * row against a group is its Student t log density, read from the
 * group's table: one forward substitution with the cached factor L of
 * Psi_n and one log():
 *   log p(x) = C - (nu_n + 1) / 2 log(1 + lambda_n / (lambda_n + 1) q),
 *   q = ||L^{-1} (x - mu_n)||^2. */
#include <math.h>
#include <string.h>
#include "block_niw.h"
#include "log_gamma.h"

double niw_table_log_density(const double *table, int d, const double *x) {
    const double *mu_n = table + NIW_SCALARS, *inv_diag = mu_n + d,
                 *M = inv_diag + d + (size_t)d * d;
    double z[d > 0 ? d : 1];
    double q = 0.0;
    for (int i = 0; i < d; i++) {
        const double *mi = M + (size_t)i * d;
        double s = (x[i] - mu_n[i]) * inv_diag[i];
        for (int k = 0; k < i; k++) s -= mi[k] * z[k];
        z[i] = s;
        q += s * s;
    }
    return table[NIW_C] - table[NIW_HALF_NU1] * log(1.0 + table[NIW_SHRINK] * q);
}

void niw_score_all(block_t *b, const partition_view_t *p, int row,
                   double *scores, int accumulate) {
    const niw_t *g = NIW(b);
    if (!accumulate)
        for (int a = 0; a <= p->n_active; a++)
            scores[a < p->n_active ? p->active[a] : p->ghost] = 0.0;
    for (int j = 0; j < b->n_features; j++) {
        const niw_feature_t *f = &g->features[j];
        const double *x = niw_cell(b, f, row);
        if (x == NULL) continue;
        const size_t T = niw_table_size(f->dim);
        for (int a = 0; a <= p->n_active; a++) {
            const int k = a < p->n_active ? p->active[a] : p->ghost;
            scores[k] += niw_table_log_density(f->table + k * T, f->dim, x);
        }
    }
}

double niw_score_slot(const block_t *b, const partition_view_t *p, int row,
                      int k) {
    const niw_t *g = NIW(b);
    (void)p;
    double s = 0.0;
    for (int j = 0; j < b->n_features; j++) {
        const niw_feature_t *f = &g->features[j];
        const double *x = niw_cell(b, f, row);
        if (x == NULL) continue;
        s += niw_table_log_density(f->table + (size_t)k * niw_table_size(f->dim),
                                   f->dim, x);
    }
    return s;
}

/* log p(x | the group's other n - 1 rows) from the table that counts x,
 * without a downdate: with u = x - mu_n, q = ||L^{-1} u||^2 and c =
 * lambda_n / (lambda_n - 1), Psi_{n-1} = Psi_n - c u u', so (determinant
 * lemma and Sherman-Morrison) log |Psi_{n-1}| = log |Psi_n| + log(1 - c q)
 * and (x - mu_{n-1})' Psi_{n-1}^{-1} (x - mu_{n-1}) = c^2 q / (1 - c q).
 * Where 1 - c q is tiny (the downdate's ill-conditioned case) the others'
 * table is computed afresh from the statistics in the block's scratch. */
static double loo_one(const block_t *b, int j, int k, const double *x) {
    const niw_t *g = NIW(b);
    const niw_feature_t *f = &g->features[j];
    const int d = f->dim;
    const double *hp = niw_hp(b, j);
    const int n = f->count[k];
    if (n <= 1) return niw_table_log_density(f->prior_table, d, x);
    const double *t = f->table + (size_t)k * niw_table_size(d);
    const double *mu_n = t + NIW_SCALARS, *inv_diag = mu_n + d,
                 *L = inv_diag + d;
    double u[d];
    for (int i = 0; i < d; i++) u[i] = x[i] - mu_n[i];
    const double q = niw_forward_norm2(L, inv_diag, d, u);
    const double lambda_n = hp[niw_hp_lambda(d)] + n, lambda_o = lambda_n - 1;
    const double c = lambda_n / lambda_o, rho2 = 1.0 - c * q;
    const double nu_o = hp[niw_hp_nu(d)] + n - 1;
    if (rho2 < 1e-6) {
        /* The others' statistics by Welford's downdate, then a table. */
        double *scratch = g->scratch;
        double *mean = scratch, *S = mean + d, *table = S + (size_t)d * d;
        const double *m = f->mean + (size_t)k * d,
                     *S_n = f->scatter + (size_t)k * d * d;
        double delta[d];
        for (int i = 0; i < d; i++) {
            delta[i] = x[i] - m[i];
            mean[i] = m[i] - delta[i] / (n - 1.0);
        }
        const double w = (double)n / (n - 1.0);
        for (size_t r = 0; r < (size_t)d; r++)
            for (size_t cc = 0; cc < (size_t)d; cc++)
                S[r * d + cc] = S_n[r * d + cc] - w * delta[r] * delta[cc];
        if (niw_table_from_stats(hp, d, n - 1, mean, S, table) != 0)
            return -INFINITY;
        return niw_table_log_density(table, d, x);
    }
    const double log_det = t[NIW_LOG_DET] + log(rho2);
    const double quad = c * c * q / rho2;
    const double C = log_gamma(0.5 * (nu_o + 1.0)) -
                     log_gamma(0.5 * (nu_o - d + 1.0)) - 0.5 * d * NIW_LOG_PI -
                     0.5 * log_det - 0.5 * d * log(lambda_n / lambda_o);
    return C - 0.5 * (nu_o + 1.0) * log(1.0 + lambda_o / lambda_n * quad);
}

double niw_score_slot_loo(const block_t *b, const partition_view_t *p,
                          int row, int k) {
    (void)p;
    double s = 0.0;
    for (int j = 0; j < b->n_features; j++) {
        const double *x = niw_cell(b, &NIW(b)->features[j], row);
        if (x != NULL) s += loo_one(b, j, k, x);
    }
    return s;
}

/* Murphy (2007), eq. 266:
 *   log p(X) = -n d / 2 log(pi) + log Gamma_d(nu_n / 2) - log Gamma_d(nu / 2)
 *              + nu / 2 log |psi| - nu_n / 2 log |Psi_n|
 *              + d / 2 log(lambda / lambda_n). */
double niw_log_marginal(const double *hp, int d, double n, double log_det_n,
                        double log_det_psi) {
    if (n == 0) return 0.0;
    const double lambda = hp[niw_hp_lambda(d)], nu = hp[niw_hp_nu(d)];
    return -0.5 * n * d * NIW_LOG_PI + niw_log_mv_gamma(d, 0.5 * (nu + n)) -
           niw_log_mv_gamma(d, 0.5 * nu) + 0.5 * nu * log_det_psi -
           0.5 * (nu + n) * log_det_n + 0.5 * d * log(lambda / (lambda + n));
}

double niw_group_log_marginal(const block_t *b, const partition_view_t *p,
                              int k) {
    const niw_t *g = NIW(b);
    (void)p;
    double s = 0.0;
    for (int j = 0; j < b->n_features; j++) {
        const niw_feature_t *f = &g->features[j];
        if (f->count[k] == 0) continue;
        const double *t = f->table + (size_t)k * niw_table_size(f->dim);
        s += niw_log_marginal(niw_hp(b, j), f->dim, f->count[k],
                              t[NIW_LOG_DET], f->log_det_psi);
    }
    return s;
}

/* Slots k1 and k2 pooled (Chan, Golub and LeVeque 1979): S = S_1 + S_2 +
 * n_1 n_2 / n delta delta', delta = mean_2 - mean_1, then one
 * factorisation of the pooled Psi_n in the block's scratch. */
double niw_merged_log_marginal(const block_t *b, const partition_view_t *p,
                               int k1, int k2) {
    const niw_t *g = NIW(b);
    (void)p;
    double s = 0.0;
    for (int j = 0; j < b->n_features; j++) {
        const niw_feature_t *f = &g->features[j];
        const int d = f->dim;
        const double n1 = f->count[k1], n2 = f->count[k2], n = n1 + n2;
        if (n == 0) continue;
        double *mean = g->scratch, *S = mean + d, *psi_n = S + (size_t)d * d;
        const double *m1 = f->mean + (size_t)k1 * d, *m2 = f->mean + (size_t)k2 * d;
        const double *S1 = f->scatter + (size_t)k1 * d * d,
                     *S2 = f->scatter + (size_t)k2 * d * d;
        for (int i = 0; i < d; i++) mean[i] = m1[i] + (m2[i] - m1[i]) * n2 / n;
        const double w = n1 * n2 / n;
        for (int r = 0; r < d; r++)
            for (int c = 0; c < d; c++)
                S[(size_t)r * d + c] = S1[(size_t)r * d + c] + S2[(size_t)r * d + c] +
                                       w * (m2[r] - m1[r]) * (m2[c] - m1[c]);
        niw_posterior_scale(niw_hp(b, j), d, n, mean, S, psi_n);
        if (niw_cholesky(psi_n, d) != 0) return -INFINITY;
        s += niw_log_marginal(niw_hp(b, j), d, n,
                              niw_log_det_from_factor(psi_n, d), f->log_det_psi);
    }
    return s;
}

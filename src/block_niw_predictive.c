/* The niw block's predictive (block_niw.h), for queries: the multivariate
 * Student t of a group's table, its marginal on a cell's observed
 * coordinates and its conditional of the missing ones given them.
 *
 * With nu' = nu_n - d + 1 and the predictive's scale Psi_n (lambda_n + 1)
 * / (lambda_n nu'), for a cell observed on the m coordinates O and
 * missing on M (Kotz and Nadarajah 2004, "Multivariate t distributions",
 * 1.11 and 5.1):
 *   x_O       ~ t_{nu'}(mu_O, Psi_OO (lambda_n + 1) / (lambda_n nu')),
 *   x_M | x_O ~ t_{nu' + m}(mu_M + Psi_MO Psi_OO^{-1} (x_O - mu_O),
 *               (1 + s q_O) / (s (nu' + m)) (Psi_MM - Psi_MO Psi_OO^{-1} Psi_OM)),
 * s = lambda_n / (lambda_n + 1), q_O = (x_O - mu_O)' Psi_OO^{-1} (x_O - mu_O).
 *
 * Queries run in worker threads over one block: these read the block
 * only, and a partly observed cell works on the stack, 2 d^2 doubles, so
 * that case is limited to d <= NIW_MAX_PARTIAL_DIM (R refuses more). */
#include <math.h>
#include <string.h>
#include "block_niw.h"
#include "log_gamma.h"
#include "rng_dist.h"

static const double *slot_table(const block_t *b, int k, int j) {
    const niw_feature_t *f = &NIW(b)->features[j];
    return f->table + (size_t)k * niw_table_size(f->dim);
}

/* The conditional of a table's t given the observed coordinates of
 * `cell`: loc (d; observed coordinates copied), the factor of the
 * conditional scale of the missing ones (mm x mm, row-major, in `factor`),
 * the degrees of freedom, and the marginal log density of the observed
 * ones. work: 2 d^2 doubles. -1 when a factorisation fails. */
typedef struct {
    int m, mm;          /* observed, missing */
    int obs[NIW_MAX_PARTIAL_DIM], mis[NIW_MAX_PARTIAL_DIM];
    double dof, log_density_observed;
} niw_split_t;

static int conditional(const double *table, int d, const double *cell,
                       niw_split_t *sp, double *loc, double *factor,
                       double *work) {
    const double *mu = table + NIW_SCALARS, *L = mu + 2 * (size_t)d;
    const double shrink = table[NIW_SHRINK];
    const double nu1 = 2.0 * table[NIW_HALF_NU1] - d; /* nu' = nu_n - d + 1 */
    sp->m = sp->mm = 0;
    for (int i = 0; i < d; i++) {
        if (isnan(cell[i])) sp->mis[sp->mm++] = i;
        else sp->obs[sp->m++] = i;
    }
    const int m = sp->m, mm = sp->mm;
    double *P = work, *A = work + (size_t)d * d; /* Psi_n; Psi_OO then W */
    for (int r = 0; r < d; r++)
        for (int c = 0; c <= r; c++) {
            double s = 0.0;
            for (int k = 0; k <= c; k++) s += L[(size_t)r * d + k] * L[(size_t)c * d + k];
            P[(size_t)r * d + c] = P[(size_t)c * d + r] = s;
        }
    for (int a = 0; a < m; a++)
        for (int c = 0; c < m; c++)
            A[(size_t)a * m + c] = P[(size_t)sp->obs[a] * d + sp->obs[c]];
    if (m > 0 && niw_cholesky(A, m) != 0) return -1;
    /* y = A^{-1} r_O (A the factor of Psi_OO), q_O = ||y||^2. */
    double y[NIW_MAX_PARTIAL_DIM], alpha[NIW_MAX_PARTIAL_DIM];
    double q = 0.0, log_det = 0.0;
    for (int a = 0; a < m; a++) {
        double s = cell[sp->obs[a]] - mu[sp->obs[a]];
        for (int c = 0; c < a; c++) s -= A[(size_t)a * m + c] * y[c];
        y[a] = s / A[(size_t)a * m + a];
        q += y[a] * y[a];
        log_det += 2.0 * log(A[(size_t)a * m + a]);
    }
    /* alpha = Psi_OO^{-1} r_O by the back substitution A' alpha = y. */
    for (int a = m - 1; a >= 0; a--) {
        double s = y[a];
        for (int c = a + 1; c < m; c++) s -= A[(size_t)c * m + a] * alpha[c];
        alpha[a] = s / A[(size_t)a * m + a];
    }
    sp->dof = nu1 + m;
    sp->log_density_observed =
        m == 0 ? 0.0
               : log_gamma(0.5 * (nu1 + m)) - log_gamma(0.5 * nu1) -
                     0.5 * m * NIW_LOG_PI - 0.5 * log_det -
                     0.5 * m * log(1.0 / shrink) -
                     0.5 * (nu1 + m) * log(1.0 + shrink * q);
    for (int i = 0; i < d; i++) loc[i] = cell[i];
    for (int b = 0; b < mm; b++) {
        const int i = sp->mis[b];
        double s = mu[i];
        for (int a = 0; a < m; a++) s += P[(size_t)i * d + sp->obs[a]] * alpha[a];
        loc[i] = s;
    }
    if (mm == 0) return 0;
    /* W = A^{-1} Psi_OM (m x mm, after A in work): the Schur complement
     * Psi_MM - Psi_MO Psi_OO^{-1} Psi_OM is Psi_MM - W' W. */
    double *W = A + (size_t)m * m;
    for (int b = 0; b < mm; b++)
        for (int a = 0; a < m; a++) {
            double s = P[(size_t)sp->obs[a] * d + sp->mis[b]];
            for (int c = 0; c < a; c++) s -= A[(size_t)a * m + c] * W[(size_t)c * mm + b];
            W[(size_t)a * mm + b] = s / A[(size_t)a * m + a];
        }
    const double scale = (1.0 + shrink * q) / (shrink * (nu1 + m));
    for (int r = 0; r < mm; r++)
        for (int c = 0; c <= r; c++) {
            double s = P[(size_t)sp->mis[r] * d + sp->mis[c]];
            for (int a = 0; a < m; a++) s -= W[(size_t)a * mm + r] * W[(size_t)a * mm + c];
            factor[(size_t)r * mm + c] = factor[(size_t)c * mm + r] = scale * s;
        }
    return niw_cholesky(factor, mm);
}

static int any_missing(const double *cell, int d) {
    for (int i = 0; i < d; i++)
        if (isnan(cell[i])) return 1;
    return 0;
}

/* Full log density of the cell's observed coordinates (0 when none is
 * observed; -Inf for an infinite coordinate). */
double niw_log_predictive(const block_t *b, int k, int j, const double *cell) {
    const int d = NIW(b)->features[j].dim;
    const double *t = slot_table(b, k, j);
    for (int i = 0; i < d; i++)
        if (isinf(cell[i])) return -INFINITY;
    if (!any_missing(cell, d)) return niw_table_log_density(t, d, cell);
    if (d > NIW_MAX_PARTIAL_DIM) return NAN;
    double work[2 * d * d + (size_t)d * d], loc[d];
    niw_split_t sp;
    if (conditional(t, d, cell, &sp, loc, work + 2 * (size_t)d * d, work) != 0)
        return NAN;
    return sp.log_density_observed;
}

/* mu_n: the t's mean when nu_n - d + 1 > 1, its centre always. */
void niw_predictive_mean(const block_t *b, int k, int j, double *out) {
    const int d = NIW(b)->features[j].dim;
    memcpy(out, slot_table(b, k, j) + NIW_SCALARS, sizeof(double) * d);
}

/* The observed coordinates of `cell` copied, the missing ones the
 * conditional t's centre (its mean when the degrees of freedom exceed 1). */
void niw_conditional_mean(const block_t *b, int k, int j, const double *cell,
                          double *out) {
    const int d = NIW(b)->features[j].dim;
    if (!any_missing(cell, d)) {
        memcpy(out, cell, sizeof(double) * d);
        return;
    }
    if (d > NIW_MAX_PARTIAL_DIM) {
        for (int i = 0; i < d; i++) out[i] = NAN;
        return;
    }
    double work[3 * (size_t)d * d];
    niw_split_t sp;
    if (conditional(slot_table(b, k, j), d, cell, &sp, out,
                    work + 2 * (size_t)d * d, work) != 0 &&
        sp.mm > 0)
        for (int a = 0; a < sp.mm; a++) out[sp.mis[a]] = NAN;
}

/* x = loc + F z / sqrt(w / dof), z ~ N(0, I), w ~ chi2(dof) = 2 Gamma(dof
 * / 2), F the factor of the scale: the t's construction as a normal
 * scale mixture. */
static void draw_t(rng_t *rng, int mm, const int *at, const double *F,
                   double dof, double *out) {
    double z[mm > 0 ? mm : 1];
    for (int a = 0; a < mm; a++) z[a] = rng_normal(rng);
    const double root = sqrt(dof / (2.0 * rng_gamma(rng, 0.5 * dof)));
    for (int r = 0; r < mm; r++) {
        double s = 0.0;
        for (int c = 0; c <= r; c++) s += F[(size_t)r * mm + c] * z[c];
        out[at[r]] += root * s;
    }
}

void niw_sample_predictive(const block_t *b, int k, int j, rng_t *rng,
                           double *out) {
    const int d = NIW(b)->features[j].dim;
    const double *t = slot_table(b, k, j);
    const double *mu = t + NIW_SCALARS, *L = mu + 2 * (size_t)d;
    const double nu1 = 2.0 * t[NIW_HALF_NU1] - d;
    /* The predictive's factor is L sqrt((lambda_n + 1) / (lambda_n nu')). */
    const double factor = sqrt(1.0 / (t[NIW_SHRINK] * nu1));
    double z[d];
    for (int i = 0; i < d; i++) z[i] = rng_normal(rng);
    const double root = sqrt(nu1 / (2.0 * rng_gamma(rng, 0.5 * nu1)));
    for (int r = 0; r < d; r++) {
        double s = 0.0;
        for (int c = 0; c <= r; c++) s += L[(size_t)r * d + c] * z[c];
        out[r] = mu[r] + root * factor * s;
    }
}

void niw_sample_conditional(const block_t *b, int k, int j,
                            const double *cell, rng_t *rng, double *out) {
    const int d = NIW(b)->features[j].dim;
    if (!any_missing(cell, d)) {
        memcpy(out, cell, sizeof(double) * d);
        return;
    }
    if (d > NIW_MAX_PARTIAL_DIM) {
        for (int i = 0; i < d; i++) out[i] = NAN;
        return;
    }
    double work[3 * (size_t)d * d];
    double *factor = work + 2 * (size_t)d * d;
    niw_split_t sp;
    if (conditional(slot_table(b, k, j), d, cell, &sp, out, factor, work) != 0) {
        for (int a = 0; a < sp.mm; a++) out[sp.mis[a]] = NAN;
        return;
    }
    draw_t(rng, sp.mm, sp.mis, factor, sp.dof, out);
}

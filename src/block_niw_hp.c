/* The niw block's hyperparameter kernel (block_niw.h): its target, the
 * sum over groups of the log marginal as a function of the feature's
 * hyperparameters, and the default prior of the coordinates it slices.
 *
 * The default kernel slices lambda and nu only (niw_hp_fixed): mu0 and
 * psi are set from the data (R/model-defaults.R). With mu0 and psi fixed,
 * Psi_n(lambda) = A + w(lambda) e e', A = psi + S, e = xbar - mu0, w =
 * lambda n / (lambda + n), so that (determinant lemma)
 *   log |Psi_n| = log |A| + log(1 + w e' A^{-1} e):
 * `gather` factorises each group's A once, and a slice sampler's many
 * evaluations of the target cost O(d) log Gamma calls per group. */
#include <math.h>
#include <string.h>
#include "block_niw.h"
#include "block_util.h"
#include "status.h"

enum { G_N, G_LOG_DET_A, G_QUAD, G_HEAD };

static size_t record_size(int d) { return G_HEAD + (size_t)d + (size_t)d * d; }

void niw_gather(block_t *b, const partition_view_t *p, int j) {
    niw_t *g = NIW(b);
    niw_feature_t *f = &g->features[j];
    const int d = f->dim;
    const double *hp = niw_hp(b, j), *mu0 = hp, *psi = hp + niw_hp_psi(d);
    memcpy(f->gathered_hp, mu0, sizeof(double) * d);
    memcpy(f->gathered_hp + d, psi, sizeof(double) * d * d);
    f->gathered_log_det_psi = f->log_det_psi;
    double *A = g->scratch, *e = A + (size_t)d * d;
    int m = 0;
    for (int a = 0; a < p->n_active; a++) {
        const int k = p->active[a];
        if (f->count[k] == 0) continue;
        double *r = f->gathered + (size_t)m * record_size(d);
        const double *mean = f->mean + (size_t)k * d,
                     *S = f->scatter + (size_t)k * d * d;
        r[G_N] = f->count[k];
        memcpy(r + G_HEAD, mean, sizeof(double) * d);
        memcpy(r + G_HEAD + d, S, sizeof(double) * d * d);
        for (int row = 0; row < d; row++)
            for (int c = 0; c < d; c++)
                A[(size_t)row * d + c] =
                    psi[(size_t)row + (size_t)c * d] + S[(size_t)row * d + c];
        for (int i = 0; i < d; i++) e[i] = mean[i] - mu0[i];
        if (niw_cholesky(A, d) != 0) {
            r[G_LOG_DET_A] = NAN;
            r[G_QUAD] = NAN;
        } else {
            double inv_diag[d];
            for (int i = 0; i < d; i++) inv_diag[i] = 1.0 / A[(size_t)i * d + i];
            r[G_LOG_DET_A] = niw_log_det_from_factor(A, d);
            r[G_QUAD] = niw_forward_norm2(A, inv_diag, d, e);
        }
        m++;
    }
    f->n_gathered = m;
}

/* At hyperparameters whose mu0 and psi are those gathered at, the
 * determinant lemma; otherwise each group's Psi_n factorised afresh. */
double niw_gathered_log_marginal(const block_t *b, int j, const double *hp) {
    const niw_t *g = NIW(b);
    const niw_feature_t *f = &g->features[j];
    const int d = f->dim;
    const double lambda = hp[niw_hp_lambda(d)];
    const int same = memcmp(hp, f->gathered_hp, sizeof(double) * d) == 0 &&
                     memcmp(hp + niw_hp_psi(d), f->gathered_hp + d,
                            sizeof(double) * d * d) == 0;
    double log_det_psi = f->gathered_log_det_psi;
    double *P = g->scratch;
    if (!same) {
        niw_posterior_scale(hp, d, 0, NULL, NULL, P);
        if (niw_cholesky(P, d) != 0) return -INFINITY;
        log_det_psi = niw_log_det_from_factor(P, d);
    }
    double s = 0.0;
    for (int m = 0; m < f->n_gathered; m++) {
        const double *r = f->gathered + (size_t)m * record_size(d);
        const double n = r[G_N];
        double log_det_n;
        if (same) {
            log_det_n = r[G_LOG_DET_A] +
                        log1p(lambda * n / (lambda + n) * r[G_QUAD]);
        } else {
            niw_posterior_scale(hp, d, n, r + G_HEAD, r + G_HEAD + d, P);
            if (niw_cholesky(P, d) != 0) return -INFINITY;
            log_det_n = niw_log_det_from_factor(P, d);
        }
        s += niw_log_marginal(hp, d, n, log_det_n, log_det_psi);
    }
    return isnan(s) ? -INFINITY : s;
}

/* Default hyperprior (?models), independent coordinates:
 *   lambda       ~ log-normal(log 1, 1.5^2)  (prior sample size of the mean)
 *   nu - (d - 1) ~ log-normal(log 3, 1.5^2)  (the prior predictive's degrees
 *                                             of freedom; 3 at nu = d + 2)
 * both proper and vanishing at their bounds; mu0 (when a kernel slices
 * it) ~ N(the coordinate's mean, (3 sd)^2), like nich's mu; psi has none
 * (fixed: it is a matrix, not a coordinate a slice sampler can move
 * alone without leaving the positive definite cone). */
double niw_hp_log_prior(const block_t *b, int j, int c, double value) {
    const niw_feature_t *f = &NIW(b)->features[j];
    const int d = f->dim;
    if (c < d) {
        if (!isfinite(value)) return -INFINITY;
        const double z = (value - f->location[c]) / (3.0 * f->scale[c]);
        return -0.5 * z * z;
    }
    if (c == niw_hp_lambda(d)) return block_log_normal_prior(value, 1.0, 1.5);
    if (c == niw_hp_nu(d))
        return block_log_normal_prior(value - (d - 1.0), 3.0, 1.5);
    return isfinite(value) ? 0.0 : -INFINITY;
}

void niw_hp_support(const block_t *b, int j, int c, double *lower,
                    double *upper) {
    const int d = NIW(b)->features[j].dim;
    if (c == niw_hp_lambda(d)) {
        block_positive_support(lower, upper);
    } else if (c == niw_hp_nu(d)) {
        block_positive_support(lower, upper);
        *lower = d - 1.0;
    } else {
        *lower = -INFINITY;
        *upper = INFINITY;
    }
}

double niw_hp_scale(const block_t *b, int j, int c) {
    const niw_feature_t *f = &NIW(b)->features[j];
    return c < f->dim ? f->scale[c] : 1.0;
}

/* Only lambda and nu move under the hyperparameter kernel. */
int niw_hp_fixed(const block_t *b, int j, int c) {
    const int d = NIW(b)->features[j].dim;
    return c != niw_hp_lambda(d) && c != niw_hp_nu(d);
}

/* The normal-inverse-Wishart block (niw), shared by its files:
 *   block_niw.c            statistics, rank-one updates of the cached
 *                          factors, slots, stats in and out, the ops table
 *   block_niw_linalg.c     Cholesky factorisation, rank-one update and
 *                          downdate, triangular solves
 *   block_niw_score.c      scores and log marginals
 *   block_niw_predictive.c predictive density, mean, draws, conditionals
 *   block_niw_hp.c         the hyperparameter kernel's target and prior
 *   block_niw_check.c      the recount check
 *
 * One feature is one vector of d reals (a cell of d packed columns):
 *   x | mu, Sigma ~ N_d(mu, Sigma), Sigma ~ IW(psi, nu),
 *   mu | Sigma ~ N_d(mu0, Sigma / lambda),
 * (mu, Sigma) integrated out (Murphy 2007, "Conjugate Bayesian analysis of
 * the Gaussian distribution", section 9; Gelman et al., BDA3, 3.6). A
 * group of n cells with mean xbar and scatter S = sum (x - xbar)(x -
 * xbar)' has lambda_n = lambda + n, nu_n = nu + n, mu_n = (lambda mu0 + n
 * xbar) / lambda_n and
 *   Psi_n = psi + S + (lambda n / lambda_n) (xbar - mu0)(xbar - mu0)',
 * and the predictive is multivariate Student t with nu_n - d + 1 degrees
 * of freedom, location mu_n and scale Psi_n (lambda_n + 1) / (lambda_n
 * (nu_n - d + 1)).
 *
 * Hyperparameters of a feature, in this order: mu0 (d), lambda, psi (d x
 * d, column-major), nu: d * d + d + 2 doubles.
 *
 * Each slot keeps n, xbar and S (Welford's recurrences, the statistics the
 * state saves) and a table: the Cholesky factor L of Psi_n, the inverse of
 * its diagonal, mu_n, log |Psi_n| and the predictive's constants. A move
 * changes Psi_n by a rank-one term (niw_move_factor), so L is updated or
 * downdated in O(d^2), never refactorised, except when a downdate is ill
 * conditioned (block_niw_linalg.c says how that is detected): then L is
 * refactorised from the statistics. A score is one forward substitution
 * with L and one log(). */
#ifndef MICROSCOPES_BLOCK_NIW_H
#define MICROSCOPES_BLOCK_NIW_H

#include <stddef.h>
#include "block.h"

#define NIW_LOG_PI 1.14472988584940017414

/* Largest d of a partly observed cell in queries (block_niw_predictive.c
 * works on the stack, 3 d^2 doubles, in worker threads). */
#define NIW_MAX_PARTIAL_DIM 48

/* Table of one slot: the scalars, then mu_n (d), 1 / L_ii (d), L (d x d
 * row-major, lower triangle; the upper one is zero), and L's rows divided
 * by their diagonal entries, M_ik = L_ik / L_ii (d x d, strictly lower):
 * the forward substitution of a score is then z_i = r_i / L_ii - sum_k
 * M_ik z_k, whose chain of dependent operations is one multiply-add per
 * coordinate instead of a multiply-add and a multiplication (at d = 8,
 * 41 -> 35 ns per row-group score in tools/niw_selftest.sh). */
enum {
    NIW_C,          /* the predictive's log normalising constant */
    NIW_SHRINK,     /* lambda_n / (lambda_n + 1) */
    NIW_HALF_NU1,   /* (nu_n + 1) / 2 */
    NIW_LOG_DET,    /* log |Psi_n| */
    NIW_SCALARS
};

static inline size_t niw_table_size(int d) {
    return NIW_SCALARS + 2 * (size_t)d + 2 * (size_t)d * d;
}

/* One feature's statistics and tables over the slots. */
typedef struct {
    int dim;
    int column;         /* its first packed column */
    int *count;         /* capacity */
    double *mean;       /* capacity x d */
    double *scatter;    /* capacity x d x d, symmetric, full */
    double *table;      /* capacity x niw_table_size(d) */
    /* Of the prior, set by niw_prior_refresh from the hyperparameters. */
    double *prior_table;    /* niw_table_size(d): an empty group's */
    double log_det_psi;
    /* Per coordinate: the observed mean and sd (default prior, check). */
    double *location, *scale;
    /* The hyperparameter kernel's gathered groups (block_niw_hp.c). */
    int n_gathered;
    double *gathered;       /* capacity x (3 + d + d * d) */
    double *gathered_hp;    /* the mu0 and psi they were gathered at */
    double gathered_log_det_psi;
    /* Rows partly missing (some but not all coordinates NaN): the chain's
     * copy of their cells with the missing coordinates imputed
     * (block_niw_latent.c). latent_of_row is NULL when there are none. */
    int n_latent;
    int *latent_row;        /* n_latent, increasing */
    int *latent_of_row;     /* n: index into latent_row, or -1 */
    double *latent_cells;   /* n_latent x d */
} niw_feature_t;

typedef struct {
    int capacity;
    int max_dim;
    niw_feature_t *features;    /* F */
    double *scratch;            /* 6 max_dim^2 + 8 max_dim doubles */
    long refactorisations;      /* downdates that fell back (tests) */
    /* Tests only (C_runner_test_wrong_latent): draw latent coordinates from
     * the group's unconditional predictive, ignoring the observed ones,
     * a deliberately wrong kernel the Geweke test must reject. */
    int test_wrong_latent;
} niw_t;

#define NIW(b) ((niw_t *)(b)->impl)

static inline const double *niw_hp(const block_t *b, int j) {
    return b->hp + b->hp_offset[j];
}
/* Coordinates of the hyperparameter vector of a feature of dim d. */
static inline int niw_hp_lambda(int d) { return d; }
static inline int niw_hp_psi(int d) { return d + 1; }
static inline int niw_hp_nu(int d) { return d + 1 + d * d; }
static inline int niw_n_hp(int d) { return d * d + d + 2; }

/* Row i's cell of feature f: a partly missing row's imputed copy, or NULL
 * for a row with every coordinate missing (left out of every term). */
const double *niw_cell(const block_t *b, const niw_feature_t *f, int row);
/* Row's cell in the packed (shared) data, NaN where missing. */
static inline const double *niw_data_cell(const block_t *b,
                                          const niw_feature_t *f, int row) {
    return b->data.dvalues + (size_t)row * b->data.n_columns + f->column;
}
/* One row of feature j into / out of slot k (what add_row / remove_row
 * do per feature), the cell given. */
void niw_add_cell(block_t *b, int j, int k, const double *x);
void niw_remove_cell(block_t *b, int j, int k, const double *x);

/* ---- latent cells of partly missing rows (block_niw_latent.c) ---- */
/* Finds the partly missing rows and imputes their missing coordinates by
 * the coordinate's mean over the rows observing it (0 if none does). */
int niw_latent_setup(block_t *b, niw_feature_t *f);
int niw_n_latent(const block_t *b, int j);
void niw_get_latent(const block_t *b, int j, int *rows, double *cells);
void niw_set_latent(block_t *b, int j, const double *cells);
int niw_resample_latent(block_t *b, const partition_view_t *p, rng_t *rng);
/* The conditional draw of block_niw_predictive.c (an op of the table). */
void niw_sample_conditional(const block_t *b, int k, int j,
                            const double *cell, rng_t *rng, double *out);

/* ---- linear algebra (block_niw_linalg.c) ---- */
/* In-place lower Cholesky factor of the symmetric row-major d x d `a`
 * (the lower triangle is read; the upper one is zeroed): 0, or -1 when a
 * is not numerically positive definite. */
int niw_cholesky(double *a, int d);
/* L L' + v v' into L; v is overwritten. */
void niw_chol_update(double *L, int d, double *v);
/* L L' - v v' into L (LINPACK dchdd): 0, or -1 when the result would be
 * ill conditioned (L is then to be refactorised). work: 2 d doubles. */
int niw_chol_downdate(double *L, int d, const double *v, double *work);
/* ||L^{-1} r||^2 by forward substitution, inv_diag[i] = 1 / L_ii. */
double niw_forward_norm2(const double *L, const double *inv_diag, int d,
                         const double *r);
/* 2 sum log L_ii. */
double niw_log_det_from_factor(const double *L, int d);
/* log Gamma_d(a), the multivariate log Gamma function. */
double niw_log_mv_gamma(int d, double a);

/* ---- statistics and tables (block_niw.c) ---- */
/* Psi_n of statistics (n, mean, scatter) under hyperparameters hp into
 * the d x d `out`. */
void niw_posterior_scale(const double *hp, int d, double n,
                         const double *mean, const double *scatter,
                         double *out);
/* The table of statistics (n, mean, scatter) under hp, Psi_n factorised
 * afresh: 0, or -1 when Psi_n is not positive definite. */
int niw_table_from_stats(const double *hp, int d, double n,
                         const double *mean, const double *scatter,
                         double *table);
/* The scalars, mu_n and the inverse diagonal of a table whose factor L is
 * already that of Psi_n of n cells with mean `mean`. */
void niw_table_finish(const double *hp, int d, double n, const double *mean,
                      double *table);
/* An empty group's table and log |psi|, after hyperparameters change. */
int niw_prior_refresh(block_t *b, int j);

/* ---- log marginals (block_niw_score.c) ---- */
/* Log marginal of n cells whose Psi_n has log determinant log_det_n. */
double niw_log_marginal(const double *hp, int d, double n, double log_det_n,
                        double log_det_psi);

/* ---- predictive (block_niw_predictive.c) ---- */
double niw_table_log_density(const double *table, int d, const double *x);

#endif

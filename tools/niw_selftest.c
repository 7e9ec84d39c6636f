/* Standalone self-test of the normal-inverse-Wishart block
 * (src/block_niw*.c) against a small fake partition, with closed forms
 * written here independently of the block (raw sums of outer products,
 * determinants and solves by Gaussian elimination with pivoting, no
 * Cholesky factor): tools/niw_selftest.sh builds and runs it. For d in
 * {1, 2, 3, 5, 8}, two features per block, data with missing cells:
 *  (a) group_log_marginal against the closed form from raw sums;
 *  (b) score_slot against the multivariate t density computed directly,
 *      and against log marginal(k + row) - log marginal(k);
 *  (c) score_all against score_slot on every active slot and the ghost;
 *  (d) score_slot_loo against log marginal(k) - log marginal(k - row);
 *  (e) merged_log_marginal against the closed form of the union;
 *  (f) check() after thousands of random moves (incremental factors
 *      against a recount), and check() catching a corrupted statistic;
 *  (g) the downdate's fallback: a tiny psi makes groups of about d rows
 *      ill conditioned; the fallback must fire and check() still pass;
 *  (h) gathered_log_marginal against the sum of group marginals, at other
 *      lambda and nu (the determinant-lemma path) and at another psi;
 *  (i) get_stats / set_stats round trip, copy_slot, recount + rebuild;
 *  (j) the predictive: log_predictive of a partly observed cell against
 *      the direct marginal t, conditional_mean against the direct
 *      conditional mean, and sample_predictive / sample_conditional
 *      moments against the t's mean and covariance;
 *  (k) the hyperparameter kernel moves lambda and nu only;
 *  (l) injected allocation failures in setup and grow.
 * Then (unless --no-bench) ns per row-group score of score_all at d = 2,
 * 8, 32 (n = 50,000, 20 groups) and ns per moved row (remove + add).
 * Exit status 0 iff every check passed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../src/alloc.h"
#include "../src/block.h"
#include "fake_partition.h"
#include "../src/block_niw.h"
#include "../src/kernels_block_hp.h"
#include "../src/log_gamma.h"
#include "../src/rng.h"
#include "../src/rng_dist.h"
#include "../src/status.h"

static int failures = 0;

static void report(const char *what, int ok, const char *detail) {
    printf("niw %-4s %s%s%s\n", ok ? "ok" : "FAIL", what,
           detail[0] ? ": " : "", detail);
    if (!ok) failures++;
}

static int near(double a, double b, double tol) {
    return fabs(a - b) <= tol * (1.0 + fabs(a) + fabs(b));
}

/* ---- data ------------------------------------------------------------ */

typedef struct {
    int n, F, C;
    int width[2];
    double *x;          /* n x C */
    int feature_id[2], hp_offset[3];
    double *hp;
    block_data_t data;
} dataset_t;

/* Two features of dims d1, d2: three clusters with correlated
 * coordinates, a fraction `missing` of cells all NaN (unobserved; rows
 * partly NaN are latent, block_niw_latent.c, proven in
 * tests/testthat/test-model-niw-aug.R). */
static dataset_t make_dataset(int n, int d1, int d2, double missing,
                              double psi_scale, rng_t *rng) {
    dataset_t s;
    memset(&s, 0, sizeof s);
    s.n = n;
    s.F = 2;
    s.width[0] = d1;
    s.width[1] = d2;
    s.C = d1 + d2;
    s.x = malloc(sizeof(double) * n * s.C);
    for (int i = 0; i < n; i++) {
        const int cluster = i % 3;
        int col = 0;
        for (int j = 0; j < 2; j++) {
            const int d = s.width[j];
            const int na = rng_unif(rng) < missing;
            double z0 = rng_normal(rng);
            for (int c = 0; c < d; c++) {
                const double v = 3.0 * cluster - 2.0 + 0.8 * z0 +
                                 0.6 * rng_normal(rng) + 0.3 * c;
                s.x[(size_t)i * s.C + col + c] =
                    na ? NAN : (j == 1 ? 100.0 + 0.01 * v : v);
            }
            col += d;
        }
    }
    s.feature_id[0] = 2;
    s.feature_id[1] = 5;
    s.hp_offset[0] = 0;
    s.hp_offset[1] = d1 * d1 + d1 + 2;
    s.hp_offset[2] = s.hp_offset[1] + d2 * d2 + d2 + 2;
    s.hp = malloc(sizeof(double) * s.hp_offset[2]);
    for (int j = 0; j < 2; j++) {
        const int d = s.width[j];
        double *hp = s.hp + s.hp_offset[j];
        const double unit = j == 1 ? 0.01 : 1.0;
        for (int c = 0; c < d; c++) hp[c] = j == 1 ? 100.0 : 0.5;
        hp[d] = 0.7;
        for (int r = 0; r < d; r++)
            for (int c = 0; c < d; c++)
                hp[d + 1 + r + c * d] =
                    psi_scale * unit * unit * (r == c ? 1.0 : 0.3);
        hp[d * d + d + 1] = d + 1.5;
    }
    return s;
}

static void dataset_free(dataset_t *s) {
    free(s->x);
    free(s->hp);
}

/* The data's widths point into the dataset, so bound here, not in
 * make_dataset (which returns a copy). */
static int make_block(block_t *b, dataset_t *s, int capacity) {
    s->data = (block_data_t){s->n, 2, NULL, s->x, NULL, NULL, NULL, s->width, s->C};
    return block_init(b, BLOCK_NORMAL_INVERSE_WISHART, &s->data, s->feature_id,
                      s->hp_offset, s->hp, capacity);
}

/* ---- closed forms written independently of the block ----------------- */

/* log |A| and A^{-1} b (b may be NULL) by Gaussian elimination with
 * partial pivoting on a copy; -Inf when singular. */
static double log_det_solve(const double *A_in, int d, double *b) {
    double A[d * d];
    memcpy(A, A_in, sizeof A);
    double log_det = 0.0;
    for (int c = 0; c < d; c++) {
        int pivot = c;
        for (int r = c + 1; r < d; r++)
            if (fabs(A[r * d + c]) > fabs(A[pivot * d + c])) pivot = r;
        if (A[pivot * d + c] == 0) return -INFINITY;
        if (pivot != c) {
            for (int k = 0; k < d; k++) {
                double t = A[c * d + k];
                A[c * d + k] = A[pivot * d + k];
                A[pivot * d + k] = t;
            }
            if (b) {
                double t = b[c];
                b[c] = b[pivot];
                b[pivot] = t;
            }
        }
        log_det += log(fabs(A[c * d + c]));
        for (int r = c + 1; r < d; r++) {
            const double m = A[r * d + c] / A[c * d + c];
            for (int k = c; k < d; k++) A[r * d + k] -= m * A[c * d + k];
            if (b) b[r] -= m * b[c];
        }
    }
    if (b)
        for (int r = d - 1; r >= 0; r--) {
            double s = b[r];
            for (int k = r + 1; k < d; k++) s -= A[r * d + k] * b[k];
            b[r] = s / A[r * d + r];
        }
    return log_det;
}

static double ref_lmvgamma(int d, double a) {
    double s = d * (d - 1) / 4.0 * log(M_PI);
    for (int i = 1; i <= d; i++) s += lgamma(a + (1.0 - i) / 2.0);
    return s;
}

/* Posterior of the complete cells of feature j among rows with `in[i]`,
 * by two passes (the mean, then the scatter about it; the raw sums of
 * outer products would cancel on the shifted feature):
 * Psi_n = psi + S + lambda n / lambda_n (xbar - mu0)(xbar - mu0)'. */
typedef struct {
    int n;
    double lambda_n, nu_n;
    double mu_n[16], Psi[256];
} ref_post_t;

static const double *ref_cell(const dataset_t *s, int j, int i) {
    const double *x = s->x + (size_t)i * s->C + (j == 0 ? 0 : s->width[0]);
    for (int c = 0; c < s->width[j]; c++)
        if (isnan(x[c])) return NULL;
    return x;
}

static ref_post_t ref_posterior(const dataset_t *s, const double *hp, int j,
                                const int *in) {
    const int d = s->width[j];
    const double *mu0 = hp, lambda = hp[d], *psi = hp + d + 1, nu = hp[d * d + d + 1];
    ref_post_t q;
    memset(&q, 0, sizeof q);
    double xbar[16] = {0}, S[256] = {0};
    for (int i = 0; i < s->n; i++) {
        const double *x = ref_cell(s, j, i);
        if (!in[i] || x == NULL) continue;
        q.n++;
        for (int r = 0; r < d; r++) xbar[r] += x[r];
    }
    for (int r = 0; r < d; r++) xbar[r] = q.n > 0 ? xbar[r] / q.n : 0.0;
    for (int i = 0; i < s->n; i++) {
        const double *x = ref_cell(s, j, i);
        if (!in[i] || x == NULL) continue;
        for (int r = 0; r < d; r++)
            for (int c = 0; c < d; c++) S[r * d + c] += (x[r] - xbar[r]) * (x[c] - xbar[c]);
    }
    q.lambda_n = lambda + q.n;
    q.nu_n = nu + q.n;
    for (int r = 0; r < d; r++) q.mu_n[r] = (lambda * mu0[r] + q.n * xbar[r]) / q.lambda_n;
    const double w = lambda * q.n / q.lambda_n;
    for (int r = 0; r < d; r++)
        for (int c = 0; c < d; c++)
            q.Psi[r * d + c] = psi[r + c * d] + S[r * d + c] +
                               w * (xbar[r] - mu0[r]) * (xbar[c] - mu0[c]);
    return q;
}

static double ref_log_marginal(const dataset_t *s, const double *hp, int j,
                               const int *in) {
    const int d = s->width[j];
    const double lambda = hp[d], nu = hp[d * d + d + 1];
    const ref_post_t q = ref_posterior(s, hp, j, in);
    if (q.n == 0) return 0.0;
    return -q.n * d / 2.0 * log(M_PI) + ref_lmvgamma(d, q.nu_n / 2) -
           ref_lmvgamma(d, nu / 2) + nu / 2 * log_det_solve(hp + d + 1, d, NULL) -
           q.nu_n / 2 * log_det_solve(q.Psi, d, NULL) +
           d / 2.0 * log(lambda / q.lambda_n);
}

/* Multivariate t log density of x on the coordinates `use` (m of them). */
static double ref_t_density(const double *x, const double *mu,
                            const double *Sigma, int d, double dof,
                            const int *use, int m) {
    double S[256] = {0}, r[16], y[16];
    for (int a = 0; a < m; a++) {
        r[a] = y[a] = x[use[a]] - mu[use[a]];
        for (int c = 0; c < m; c++) S[a * m + c] = Sigma[use[a] * d + use[c]];
    }
    const double log_det = log_det_solve(S, m, y);
    double quad = 0.0;
    for (int a = 0; a < m; a++) quad += r[a] * y[a];
    return lgamma((dof + m) / 2) - lgamma(dof / 2) - m / 2.0 * log(dof * M_PI) -
           0.5 * log_det - (dof + m) / 2 * log(1 + quad / dof);
}

/* The predictive t of the rows `in`: dof, mu_n, scale matrix. */
static double ref_predictive(const dataset_t *s, const double *hp, int j,
                             const int *in, double *mu, double *Sigma) {
    const int d = s->width[j];
    const ref_post_t q = ref_posterior(s, hp, j, in);
    const double dof = q.nu_n - d + 1;
    for (int r = 0; r < d; r++) {
        mu[r] = q.mu_n[r];
        for (int c = 0; c < d; c++)
            Sigma[r * d + c] = q.Psi[r * d + c] * (q.lambda_n + 1) / (q.lambda_n * dof);
    }
    return dof;
}

/* ---- tests ------------------------------------------------------------- */

static void members(const fake_t *f, int k, int *in) {
    for (int i = 0; i < f->n; i++) in[i] = f->group[i] == k;
}

static void test_scores(int d1, int d2, rng_t *rng) {
    char what[96], detail[160];
    const int n = 60;
    dataset_t s = make_dataset(n, d1, d2, 0.15, 1.0, rng);
    block_t b;
    fake_t f;
    if (make_block(&b, &s, 8) != MS_OK) {
        report("setup", 0, "block_init failed");
        return;
    }
    fake_init(&f, n, 8);
    for (int i = 0; i < n - 6; i++) fake_assign(&f, &b, i, (int)rng_below(rng, 4));
    int in[n], bad_marg = 0, bad_t = 0, bad_diff = 0, bad_all = 0, bad_loo = 0,
        bad_merge = 0;
    double scores[8];
    for (int k = 0; k < 4; k++) {
        double ref = 0.0;
        members(&f, k, in);
        for (int j = 0; j < 2; j++) ref += ref_log_marginal(&s, s.hp + s.hp_offset[j], j, in);
        if (!near(ref, b.ops->group_log_marginal(&b, &f.view, k), 1e-10)) bad_marg++;
    }
    for (int row = n - 6; row < n; row++) {
        b.ops->score_all(&b, &f.view, row, scores, 0);
        for (int a = 0; a <= f.view.n_active; a++) {
            const int k = a < f.view.n_active ? f.view.active[a] : f.view.ghost;
            const double mine = b.ops->score_slot(&b, &f.view, row, k);
            if (!near(mine, scores[k], 1e-13)) bad_all++;
            members(&f, k, in);
            double t = 0.0, before = 0.0, after = 0.0;
            for (int j = 0; j < 2; j++) {
                const int d = s.width[j];
                const double *x = ref_cell(&s, j, row);
                if (x == NULL) continue;
                double mu[16], Sigma[256];
                int use[16];
                for (int c = 0; c < d; c++) use[c] = c;
                const double dof = ref_predictive(&s, s.hp + s.hp_offset[j], j, in, mu, Sigma);
                t += ref_t_density(x, mu, Sigma, d, dof, use, d);
                before += ref_log_marginal(&s, s.hp + s.hp_offset[j], j, in);
                in[row] = 1;
                after += ref_log_marginal(&s, s.hp + s.hp_offset[j], j, in);
                in[row] = 0;
            }
            if (!near(mine, t, 1e-10)) bad_t++;
            if (!near(mine, after - before, 1e-9)) bad_diff++;
        }
        /* loo: the row counted in k, against the marginals' difference. */
        const int k = (int)rng_below(rng, 4);
        fake_assign(&f, &b, row, k);
        members(&f, k, in);
        double with = 0.0, without = 0.0;
        for (int j = 0; j < 2; j++) with += ref_log_marginal(&s, s.hp + s.hp_offset[j], j, in);
        in[row] = 0;
        for (int j = 0; j < 2; j++) without += ref_log_marginal(&s, s.hp + s.hp_offset[j], j, in);
        if (!near(b.ops->score_slot_loo(&b, &f.view, row, k), with - without, 1e-9))
            bad_loo++;
        fake_unassign(&f, &b, row);
    }
    for (int k1 = 0; k1 < 4; k1++)
        for (int k2 = k1 + 1; k2 < 5; k2++) {
            for (int i = 0; i < n; i++) in[i] = f.group[i] == k1 || f.group[i] == k2;
            double ref = 0.0;
            for (int j = 0; j < 2; j++) ref += ref_log_marginal(&s, s.hp + s.hp_offset[j], j, in);
            if (!near(ref, b.ops->merged_log_marginal(&b, &f.view, k1, k2), 1e-10))
                bad_merge++;
        }
    snprintf(what, sizeof what, "d = (%d, %d): scores and marginals", d1, d2);
    snprintf(detail, sizeof detail,
             "marginal %d, t density %d, marginal difference %d, score_all %d, "
             "loo %d, merged %d disagreements",
             bad_marg, bad_t, bad_diff, bad_all, bad_loo, bad_merge);
    report(what, bad_marg + bad_t + bad_diff + bad_all + bad_loo + bad_merge == 0,
           detail);
    fake_free(&f);
    b.ops->free(&b);
    dataset_free(&s);
}

static long refactorisations(const block_t *b) {
    return NIW(b)->refactorisations;
}

/* Many random moves; check() against a recount after them; a corrupted
 * scatter entry caught. psi_scale tiny: the fallback must fire. */
static void test_moves(int d1, int d2, double psi_scale, int moves, rng_t *rng) {
    char what[96], detail[160];
    const int n = 80, K = 12;
    dataset_t s = make_dataset(n, d1, d2, 0.1, psi_scale, rng);
    block_t b;
    fake_t f;
    if (make_block(&b, &s, K) != MS_OK) {
        report("setup", 0, "block_init failed");
        return;
    }
    fake_init(&f, n, K);
    for (int i = 0; i < n; i++) fake_assign(&f, &b, i, (int)rng_below(rng, K));
    int restore_bad = 0;
    for (int m = 0; m < moves; m++) {
        const int row = (int)rng_below(rng, n);
        fake_unassign(&f, &b, row);
        /* Small groups so that downdates of groups of about d rows happen. */
        const int k = (int)rng_below(rng, K);
        /* Add then remove restores a score to rounding; an ill-conditioned
         * Psi_n (tiny psi) only to its condition number times that. */
        if (m % 97 == 0 && psi_scale >= 1e-3) {
            const double before = b.ops->score_slot(&b, &f.view, row, k);
            fake_assign(&f, &b, row, k);
            fake_unassign(&f, &b, row);
            if (!near(before, b.ops->score_slot(&b, &f.view, row, k), 1e-8))
                restore_bad++;
        }
        fake_assign(&f, &b, row, k);
    }
    const char *problem = b.ops->check(&b, &f.view);
    snprintf(what, sizeof what,
             "d = (%d, %d), psi x %g: %d moves against a recount", d1, d2,
             psi_scale, moves);
    snprintf(detail, sizeof detail, "%s; %ld downdates refactorised; %d scores "
             "not restored",
             problem ? problem : "check passes", refactorisations(&b), restore_bad);
    report(what, problem == NULL && restore_bad == 0 &&
                     (psi_scale >= 1e-3 || refactorisations(&b) > 0),
           detail);
    /* A corrupted statistic is caught. */
    niw_feature_t *feat = &NIW(&b)->features[1];
    const int k = f.view.active[0];
    feat->scatter[(size_t)k * d2 * d2] += 1e-3 * (feat->scatter[(size_t)k * d2 * d2] + 1);
    report("check() catches a corrupted scatter", b.ops->check(&b, &f.view) != NULL, "");
    feat->scatter[(size_t)k * d2 * d2] -= 1e-3 * (feat->scatter[(size_t)k * d2 * d2] + 1);
    fake_free(&f);
    b.ops->free(&b);
    dataset_free(&s);
}

static void test_hp_and_stats(rng_t *rng) {
    const int n = 50, K = 8, d1 = 3, d2 = 2;
    dataset_t s = make_dataset(n, d1, d2, 0.1, 1.0, rng);
    block_t b;
    fake_t f;
    if (make_block(&b, &s, K) != MS_OK) {
        report("setup", 0, "block_init failed");
        return;
    }
    fake_init(&f, n, K);
    for (int i = 0; i < n; i++) fake_assign(&f, &b, i, (int)rng_below(rng, 5));
    int bad = 0, in[n];
    for (int j = 0; j < 2; j++) {
        const int d = s.width[j], nh = d * d + d + 2;
        double hp[64];
        memcpy(hp, s.hp + s.hp_offset[j], sizeof(double) * nh);
        b.ops->gather(&b, &f.view, j);
        for (int trial = 0; trial < 6; trial++) {
            hp[d] = 0.05 + 3 * rng_unif(rng);
            hp[d * d + d + 1] = d - 0.5 + 10 * rng_unif(rng);
            if (trial == 5) /* another psi: the slow path */
                for (int c = 0; c < d; c++) hp[d + 1 + c * d + c] *= 2.0;
            double ref = 0.0;
            for (int k = 0; k < 5; k++) {
                members(&f, k, in);
                ref += ref_log_marginal(&s, hp, j, in);
            }
            if (!near(ref, b.ops->gathered_log_marginal(&b, j, hp), 1e-10)) bad++;
        }
    }
    report("gathered_log_marginal at other lambda, nu and psi", bad == 0, "");

    /* The kernel moves lambda and nu only. */
    double before[200];
    memcpy(before, b.hp, sizeof(double) * s.hp_offset[2]);
    const int locals[2] = {0, 1};
    int status = MS_OK;
    for (int it = 0; it < 20 && status == MS_OK; it++)
        status = kernel_slice_block_hp(&b, &f.view, locals, 2, 1.0, rng);
    int moved_fixed = 0, moved_free = 0;
    for (int j = 0; j < 2; j++) {
        const int d = s.width[j];
        for (int c = 0; c < d * d + d + 2; c++) {
            const int changed = before[s.hp_offset[j] + c] != b.hp[s.hp_offset[j] + c];
            if (c == d || c == d * d + d + 1) moved_free += changed;
            else moved_fixed += changed;
        }
    }
    char detail[128];
    snprintf(detail, sizeof detail, "status %d, fixed coordinates moved %d, "
             "lambda/nu moved %d of 4", status, moved_fixed, moved_free);
    report("hp kernel slices lambda and nu only", status == MS_OK &&
           moved_fixed == 0 && moved_free == 4, detail);
    report("check() after the hp kernel's rebuild", b.ops->check(&b, &f.view) == NULL, "");

    /* get_stats / set_stats, copy_slot, recount + rebuild. */
    double scores_before[K], one[200];
    const int row = 3, k0 = f.group[3];
    for (int k = 0; k < K; k++) scores_before[k] = b.ops->score_slot(&b, &f.view, row, k);
    bad = 0;
    for (int j = 0; j < 2; j++) {
        const int m = b.ops->n_stats(&b, j);
        for (int k = 0; k < 5; k++) {
            b.ops->get_stats(&b, k, j, one);
            b.ops->set_stats(&b, k, j, one);
        }
        if (m != 1 + s.width[j] + s.width[j] * s.width[j]) bad++;
    }
    for (int k = 0; k < K; k++)
        if (!near(scores_before[k], b.ops->score_slot(&b, &f.view, row, k), 1e-10)) bad++;
    b.ops->recount(&b, &f.view);
    if (b.ops->rebuild(&b, &f.view) != MS_OK) bad++;
    for (int k = 0; k < K; k++)
        if (!near(scores_before[k], b.ops->score_slot(&b, &f.view, row, k), 1e-10)) bad++;
    /* copy k0 to the free slot 7, as compaction would. */
    b.ops->copy_slot(&b, &f.view, k0, 7);
    if (!near(b.ops->score_slot(&b, &f.view, row, 7), scores_before[k0], 1e-12)) bad++;
    b.ops->clear_slot(&b, &f.view, 7);
    if (b.ops->check(&b, &f.view) != NULL) bad++;
    report("set_stats, recount + rebuild, copy_slot keep the scores", bad == 0, "");
    fake_free(&f);
    b.ops->free(&b);
    dataset_free(&s);
}

/* The predictive against direct t formulas and its samplers' moments. */
static void test_predictive(rng_t *rng) {
    const int n = 40, K = 4, d1 = 4, d2 = 2;
    dataset_t s = make_dataset(n, d1, d2, 0.0, 1.0, rng);
    block_t b;
    fake_t f;
    if (make_block(&b, &s, K) != MS_OK) {
        report("setup", 0, "block_init failed");
        return;
    }
    fake_init(&f, n, K);
    for (int i = 0; i < n; i++) fake_assign(&f, &b, i, i % 2);
    int in[n], bad_density = 0, bad_mean = 0;
    const int j = 0, d = d1;
    double mu[16], Sigma[256];
    for (int k = 0; k < 3; k++) { /* two groups and the empty one */
        members(&f, k, in);
        const double dof = ref_predictive(&s, s.hp, j, in, mu, Sigma);
        for (int pattern = 1; pattern < (1 << d); pattern++) {
            double cell[16], out[16];
            int use[16], m = 0;
            for (int c = 0; c < d; c++) {
                const int seen = (pattern >> c) & 1;
                cell[c] = seen ? mu[c] + rng_normal(rng) : NAN;
                if (seen) use[m++] = c;
            }
            const double ref = ref_t_density(cell, mu, Sigma, d, dof, use, m);
            if (!near(ref, b.ops->log_predictive(&b, k, j, cell), 1e-10)) bad_density++;
            /* conditional mean: mu_M + S_MO S_OO^{-1} (x_O - mu_O) */
            b.ops->conditional_mean(&b, k, j, cell, out);
            double S_OO[256], r[16];
            for (int a = 0; a < m; a++) {
                r[a] = cell[use[a]] - mu[use[a]];
                for (int c = 0; c < m; c++) S_OO[a * m + c] = Sigma[use[a] * d + use[c]];
            }
            log_det_solve(S_OO, m, r);
            for (int c = 0; c < d; c++) {
                double want = cell[c];
                if (isnan(cell[c])) {
                    want = mu[c];
                    for (int a = 0; a < m; a++) want += Sigma[c * d + use[a]] * r[a];
                }
                if (!near(want, out[c], 1e-10)) bad_mean++;
            }
        }
    }
    char detail[128];
    snprintf(detail, sizeof detail, "%d densities, %d conditional means differ",
             bad_density, bad_mean);
    report("partly observed cells: marginal t density and conditional mean",
           bad_density + bad_mean == 0, detail);

    /* Moments of draws: the full t (dof > 4 here) and a conditional. */
    const int k = 0, draws = 200000;
    members(&f, k, in);
    const double dof = ref_predictive(&s, s.hp, j, in, mu, Sigma);
    double sum[16] = {0}, sq[256] = {0}, out[16];
    for (int t = 0; t < draws; t++) {
        b.ops->sample_predictive(&b, k, j, rng, out);
        for (int r = 0; r < d; r++) {
            sum[r] += out[r];
            for (int c = 0; c < d; c++) sq[r * d + c] += out[r] * out[c];
        }
    }
    int bad = 0;
    for (int r = 0; r < d; r++) {
        const double mean = sum[r] / draws, cov_scale = dof / (dof - 2);
        const double se = sqrt(Sigma[r * d + r] * cov_scale / draws);
        if (fabs(mean - mu[r]) > 5 * se) bad++;
        for (int c = 0; c < d; c++) {
            const double cov = sq[r * d + c] / draws - mean * sum[c] / draws;
            const double want = Sigma[r * d + c] * cov_scale;
            if (fabs(cov - want) > 0.05 * sqrt(Sigma[r * d + r] * Sigma[c * d + c]) * cov_scale)
                bad++;
        }
    }
    /* Conditional draws: coordinates 1, 3 missing; their mean. */
    double cell[16] = {mu[0] + 0.5, NAN, mu[2] - 0.3, NAN}, want[16];
    b.ops->conditional_mean(&b, k, j, cell, want);
    double csum[16] = {0};
    for (int t = 0; t < draws; t++) {
        b.ops->sample_conditional(&b, k, j, cell, rng, out);
        if (out[0] != cell[0] || out[2] != cell[2]) bad++;
        csum[1] += out[1];
        csum[3] += out[3];
    }
    for (int c = 1; c < 4; c += 2)
        if (fabs(csum[c] / draws - want[c]) > 5 * sqrt(Sigma[c * d + c] * 2 / draws)) bad++;
    snprintf(detail, sizeof detail, "%d moments off", bad);
    report("sample_predictive and sample_conditional moments", bad == 0, detail);
    fake_free(&f);
    b.ops->free(&b);
    dataset_free(&s);
}

static void test_allocation_failures(rng_t *rng) {
    dataset_t s = make_dataset(20, 3, 2, 0.1, 1.0, rng);
    int init_failures = 0, grow_failures = 0, bad = 0;
    for (int k = 1; k <= 40; k++) {
        block_t b;
        ms_alloc_fail_after(k);
        const int status = make_block(&b, &s, 4);
        ms_alloc_fail_after(0);
        if (status == MS_ERR_NOMEM) init_failures++;
        else if (status != MS_OK) bad++;
        if (status == MS_OK) {
            ms_alloc_fail_after(1 + k % 10);
            const int grown = b.ops->grow(&b, 4, 64);
            ms_alloc_fail_after(0);
            if (grown == MS_ERR_NOMEM) {
                grow_failures++;
                if (b.ops->grow(&b, 4, 64) != MS_OK) bad++;
            }
            fake_t f;
            fake_init(&f, 20, 64);
            for (int i = 0; i < 20; i++) fake_assign(&f, &b, i, i % 5 + 40);
            if (b.ops->check(&b, &f.view) != NULL) bad++;
            fake_free(&f);
        }
        b.ops->free(&b);
    }
    char detail[128];
    snprintf(detail, sizeof detail, "%d setup and %d grow failures handled, %d bad",
             init_failures, grow_failures, bad);
    report("injected allocation failures", bad == 0 && init_failures > 0 &&
           grow_failures > 0, detail);
    dataset_free(&s);
}

/* ns per row-group score of score_all and per moved row at dim d. */
static void bench(int d, rng_t *rng) {
    const int n = 50000, K = 20;
    dataset_t s;
    memset(&s, 0, sizeof s);
    s.n = n;
    s.C = d;
    s.width[0] = d;
    s.x = malloc(sizeof(double) * n * d);
    for (int i = 0; i < n; i++)
        for (int c = 0; c < d; c++)
            s.x[(size_t)i * d + c] = 2.0 * (i % K) + rng_normal(rng);
    s.feature_id[0] = 0;
    s.hp_offset[0] = 0;
    s.hp_offset[1] = d * d + d + 2;
    s.hp = calloc(s.hp_offset[1], sizeof(double));
    s.hp[d] = 1.0;
    for (int c = 0; c < d; c++) s.hp[d + 1 + c * d + c] = 1.0;
    s.hp[d * d + d + 1] = d + 2.0;
    s.data = (block_data_t){n, 1, NULL, s.x, NULL, NULL, NULL, s.width, d};
    block_t b;
    fake_t f;
    block_init(&b, BLOCK_NORMAL_INVERSE_WISHART, &s.data, s.feature_id,
               s.hp_offset, s.hp, K + 1);
    fake_init(&f, n, K + 1);
    for (int i = 0; i < n; i++) fake_assign(&f, &b, i, i % K);
    double *scores = malloc(sizeof(double) * (K + 1)), sink = 0.0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    for (int i = 0; i < n; i++) {
        b.ops->score_all(&b, &f.view, i, scores, 0);
        sink += scores[i % K];
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    const double score_ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) /
                            ((double)n * (K + 1));
    const int moves = 20000;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    for (int m = 0; m < moves; m++) {
        const int row = (int)rng_below(rng, n), k = f.group[row];
        f.size[k]--;
        b.ops->remove_row(&b, &f.view, row, k);
        const int to = (k + 1) % K;
        f.size[to]++;
        f.group[row] = to;
        b.ops->add_row(&b, &f.view, row, to);
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    const double move_ns =
        ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / moves;
    printf("niw bench d = %2d: %.1f ns per row-group score (n = %d, %d groups + "
           "ghost), %.0f ns per moved row (downdate + update), %ld fallbacks "
           "[%g]\n",
           d, score_ns, n, K, move_ns, refactorisations(&b), sink > 0 ? 0.0 : 1.0);
    free(scores);
    fake_free(&f);
    b.ops->free(&b);
    dataset_free(&s);
}

int main(int argc, char **argv) {
    int run_bench = 1;
    for (int a = 1; a < argc; a++)
        if (strcmp(argv[a], "--no-bench") == 0) run_bench = 0;
    rng_t rng;
    rng_seed(&rng, 20261202);
    const int dims[][2] = {{1, 2}, {2, 3}, {5, 1}, {8, 3}};
    for (int i = 0; i < 4; i++) test_scores(dims[i][0], dims[i][1], &rng);
    test_moves(2, 3, 1.0, 5000, &rng);
    test_moves(4, 5, 1e-6, 5000, &rng);
    test_moves(8, 2, 1e-6, 3000, &rng);
    test_hp_and_stats(&rng);
    test_predictive(&rng);
    test_allocation_failures(&rng);
    if (run_bench) {
        bench(2, &rng);
        bench(8, &rng);
        bench(32, &rng);
    }
    printf("%s: %d failures\n", failures ? "FAILED" : "passed", failures);
    return failures ? 1 : 0;
}

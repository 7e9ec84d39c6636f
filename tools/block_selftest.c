/* Standalone self-test of the feature blocks dd, gp, bnb and nich
 * (src/block_*.c) and of their hyperparameter slice kernel
 * (src/kernels_block_hp.c), against a small fake partition instead of the
 * state: tools/block_selftest.sh builds and runs it. For each model, on
 * random data with missing cells:
 *  (a) score_slot(row, k) = log marginal(k + row) - log marginal(k);
 *  (b) score_all agrees with score_slot on every active slot and the ghost;
 *  (c) score_slot_loo(row, k) = log marginal(k) - log marginal(k - row);
 *  (d) check() passes after random move sequences, an add then a remove
 *      restores every score, and check() catches a corrupted statistic;
 *  (e) the log marginal of a tiny group against numeric integration over
 *      the parameters (dd: the Polya urn's sequential product);
 *  (f) the predictive mean against a numeric sum / integral of
 *      exp(log_predictive), which must also sum / integrate to 1, and the
 *      predictive sampler's draws against both;
 *  (g) the slice kernel's draws of each hyperparameter coordinate on a
 *      fixed partition against quadrature of prior x marginal (chi-square
 *      over 20 equiprobable bins, fixed seed), and a deliberately wrong
 *      target (likelihood tempered by 1.5) must fail the same test; and the
 *      whole kernel on gp's two coordinates against a 2-D quadrature;
 *  and: gathered_log_marginal against group marginals, set_stats, rebuild
 *  of free slots, injected allocation failures (run --sanitize for ASan).
 * Then a micro-benchmark: ns per row-group-feature score of score_all at
 * n = 100000, F = 10, 20 groups. Exit status 0 iff every check passed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../src/alloc.h"
#include "../src/block.h"
#include "fake_partition.h"
#include "../src/data.h"
#include "../src/kernels_block_hp.h"
#include "../src/log_gamma.h"
#include "../src/rng.h"
#include "../src/rng_dist.h"
#include "../src/status.h"

static int failures = 0;

static void report(const char *model, const char *what, int ok,
                   const char *detail) {
    printf("%-5s %-4s %s%s%s\n", model, ok ? "ok" : "FAIL", what,
           detail[0] ? ": " : "", detail);
    if (!ok) failures++;
}

/* ---- random data sets per model -------------------------------------- */

typedef struct {
    const char *name;
    int kind;
    block_data_t data;
    int32_t *ivalues;
    double *dvalues;
    int *n_levels;
    double *parameter;
    int *feature_id, *hp_offset;
    double *hp;
} dataset_t;

static void dataset_free(dataset_t *d) {
    free(d->ivalues);
    free(d->dvalues);
    free(d->n_levels);
    free(d->parameter);
    free(d->feature_id);
    free(d->hp_offset);
    free(d->hp);
}

/* F features of `kind` on n rows with a fraction `missing` of NA cells;
 * `shifted` gives nich a column at 1000 with sd 0.01 (the Welford case). */
static int with_outliers = 1; /* counts above 256 now and then */

static dataset_t make_dataset(int kind, int n, int F, double missing,
                              rng_t *rng) {
    static const char *names[] = {"bb", "dd", "gp", "bnb", "nich"};
    dataset_t d;
    memset(&d, 0, sizeof d);
    d.name = names[kind];
    d.kind = kind;
    d.feature_id = malloc(sizeof(int) * F);
    d.hp_offset = malloc(sizeof(int) * (F + 1));
    for (int j = 0; j < F; j++) d.feature_id[j] = 3 * j + 1;
    if (kind == BLOCK_NORMAL_INVERSE_CHISQ)
        d.dvalues = malloc(sizeof(double) * n * F);
    else
        d.ivalues = malloc(sizeof(int32_t) * n * F);
    if (kind == BLOCK_DIRICHLET_DISCRETE) d.n_levels = malloc(sizeof(int) * F);
    if (kind == BLOCK_BETA_NEGATIVE_BINOMIAL)
        d.parameter = malloc(sizeof(double) * F);
    d.hp_offset[0] = 0;
    for (int j = 0; j < F; j++) {
        const int n_hp = kind == BLOCK_DIRICHLET_DISCRETE ? 2 + j % 4
                         : kind == BLOCK_NORMAL_INVERSE_CHISQ ? 4
                                                              : 2;
        if (d.n_levels) d.n_levels[j] = n_hp;
        if (d.parameter) d.parameter[j] = j % 3 == 0 ? 0.5 : j % 3 == 1 ? 2 : 3.7;
        d.hp_offset[j + 1] = d.hp_offset[j] + n_hp;
    }
    d.hp = malloc(sizeof(double) * d.hp_offset[F]);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < F; j++) {
            const size_t at = (size_t)i * F + j;
            const int na = rng_unif(rng) < missing;
            const int cluster = i % 3;
            switch (kind) {
            case BLOCK_DIRICHLET_DISCRETE:
                d.ivalues[at] = na ? BLOCK_INT_NA
                                   : (int32_t)((cluster + rng_below(rng, 2)) %
                                               d.n_levels[j]);
                break;
            case BLOCK_GAMMA_POISSON:
            case BLOCK_BETA_NEGATIVE_BINOMIAL:
                /* Mostly small counts, now and then one above the
                 * product path's limit of 256. */
                d.ivalues[at] = na ? BLOCK_INT_NA
                                : with_outliers && rng_unif(rng) < 0.03
                                    ? 300 + (int32_t)rng_below(rng, 50)
                                    : (int32_t)rng_poisson(rng, 1.0 + 3 * cluster);
                break;
            default: {
                const double centre = j % 2 ? 1000.0 : -5.0 + 4 * cluster;
                const double sd = j % 2 ? 0.01 : 1.0;
                d.dvalues[at] = na ? NAN : centre + sd * rng_normal(rng);
            }
            }
        }
    for (int j = 0; j < F; j++) {
        double *hp = d.hp + d.hp_offset[j];
        switch (kind) {
        case BLOCK_DIRICHLET_DISCRETE:
            for (int l = 0; l < d.n_levels[j]; l++) hp[l] = 0.5 + 0.4 * l;
            break;
        case BLOCK_GAMMA_POISSON: hp[0] = 1.3, hp[1] = 2.0; break;
        case BLOCK_BETA_NEGATIVE_BINOMIAL: hp[0] = 3.5, hp[1] = 1.5; break;
        default:
            hp[0] = j % 2 ? 1000.0 : 0.0;
            hp[1] = 0.7;
            hp[2] = j % 2 ? 1e-4 : 1.0;
            hp[3] = 2.5;
        }
    }
    d.data = (block_data_t){n, F, d.ivalues, d.dvalues, d.n_levels,
                            d.parameter, NULL};
    return d;
}

static int make_block(block_t *b, const dataset_t *d, int capacity) {
    return block_init(b, d->kind, &d->data, d->feature_id, d->hp_offset,
                      d->hp, capacity);
}

static double abs_error(double a, double b) { return fabs(a - b); }

/* ---- (a) - (d) --------------------------------------------------------- */

static void test_scores(int kind, rng_t *rng) {
    const int n = 80, F = 4, capacity = 90;
    dataset_t d = make_dataset(kind, n, F, 0.15, rng);
    block_t b;
    fake_t f;
    char detail[200];
    if (make_block(&b, &d, 8) != MS_OK) {
        report(d.name, "init", 0, "");
        return;
    }
    if (b.ops->grow(&b, 8, capacity) != MS_OK) report(d.name, "grow", 0, "");
    fake_init(&f, n, capacity);
    for (int i = 0; i < n; i++) fake_assign(&f, &b, i, (int)rng_below(rng, 5));

    double worst_a = 0, worst_b = 0, worst_c = 0;
    double *scores = malloc(sizeof(double) * capacity);
    const char *audit = NULL;
    for (int step = 0; step < 400; step++) {
        const int row = (int)rng_below(rng, n);
        /* (c) leave-one-out on the row's own slot */
        const int own = f.group[row];
        const double loo = b.ops->score_slot_loo(&b, &f.view, row, own);
        const double with_row = b.ops->group_log_marginal(&b, &f.view, own);
        /* (b) score_all (both modes) against score_slot */
        for (int k = 0; k < capacity; k++) scores[k] = 1e300;
        b.ops->score_all(&b, &f.view, row, scores, 0);
        for (int a = 0; a <= f.view.n_active; a++) {
            const int k = a < f.view.n_active ? f.active[a] : f.view.ghost;
            const double e =
                abs_error(scores[k], b.ops->score_slot(&b, &f.view, row, k));
            if (e > worst_b) worst_b = e;
        }
        for (int k = 0; k < capacity; k++) scores[k] = 1.5;
        b.ops->score_all(&b, &f.view, row, scores, 1);
        for (int a = 0; a <= f.view.n_active; a++) {
            const int k = a < f.view.n_active ? f.active[a] : f.view.ghost;
            const double e = abs_error(
                scores[k] - 1.5, b.ops->score_slot(&b, &f.view, row, k));
            if (e > worst_b) worst_b = e;
        }
        fake_unassign(&f, &b, row);
        const double without_row = b.ops->group_log_marginal(&b, &f.view, own);
        if (abs_error(loo, with_row - without_row) > worst_c)
            worst_c = abs_error(loo, with_row - without_row);
        /* (a) a score against a random slot (the ghost one time in 6) */
        const int pick = (int)rng_below(rng, f.view.n_active + 1);
        const int k = pick < f.view.n_active && rng_below(rng, 6) > 0
                          ? f.active[pick]
                          : f.view.ghost;
        const double score = b.ops->score_slot(&b, &f.view, row, k);
        const double before = b.ops->group_log_marginal(&b, &f.view, k);
        fake_assign(&f, &b, row, k);
        const double after = b.ops->group_log_marginal(&b, &f.view, k);
        if (abs_error(score, after - before) > worst_a)
            worst_a = abs_error(score, after - before);
        if (audit == NULL) audit = b.ops->check(&b, &f.view);
    }
    snprintf(detail, sizeof detail, "max |error| %.2e over 400 moves", worst_a);
    report(d.name, "(a) score_slot = marginal difference", worst_a < 1e-9,
           detail);
    snprintf(detail, sizeof detail, "max |error| %.2e", worst_b);
    report(d.name, "(b) score_all = score_slot, ghost included",
           worst_b < 1e-10, detail);
    snprintf(detail, sizeof detail, "max |error| %.2e", worst_c);
    report(d.name, "(c) score_slot_loo = marginal difference", worst_c < 1e-9,
           detail);
    report(d.name, "(d) check() after every move", audit == NULL,
           audit ? audit : "");

    /* (d) an add then a remove restores every slot's score of a probe */
    const int probe = 0, mover = 1;
    fake_unassign(&f, &b, probe);
    double worst_d = 0;
    for (int trial = 0; trial < 50; trial++) {
        double before[90];
        for (int k = 0; k < f.view.slot_span; k++)
            before[k] = b.ops->score_slot(&b, &f.view, probe, k);
        const int from = f.group[mover];
        const int to = (int)rng_below(rng, f.view.slot_span);
        fake_unassign(&f, &b, mover);
        fake_assign(&f, &b, mover, to);
        fake_unassign(&f, &b, mover);
        fake_assign(&f, &b, mover, from);
        for (int k = 0; k < f.view.slot_span; k++) {
            const double e =
                abs_error(before[k], b.ops->score_slot(&b, &f.view, probe, k));
            if (e > worst_d) worst_d = e;
        }
    }
    snprintf(detail, sizeof detail, "max |change| %.2e", worst_d);
    report(d.name, "(d) add then remove restores the tables", worst_d < 1e-9,
           detail);

    /* (d) the audit catches a statistic that was not recounted: a row
     * counted into a slot behind the partition's back. */
    b.ops->add_row(&b, &f.view, probe, f.active[0]);
    const char *caught = b.ops->check(&b, &f.view);
    report(d.name, "(d) check() catches a corrupted statistic", caught != NULL,
           caught ? caught : "not caught");
    b.ops->remove_row(&b, &f.view, probe, f.active[0]);

    /* gathered_log_marginal differs from the sum of the active groups' log
     * marginals by a constant free of hp: compare changes between the
     * current hp and a perturbed one, feature by feature. */
    double worst_g = 0;
    for (int j = 0; j < F; j++) {
        double h0[8], h1[8];
        const int m = b.hp_offset[j + 1] - b.hp_offset[j];
        for (int c = 0; c < m; c++) {
            h0[c] = b.hp[b.hp_offset[j] + c];
            h1[c] = h0[c] * (1.3 + 0.1 * c) + (c == 0 ? 0.2 : 0.0);
        }
        b.ops->gather(&b, &f.view, j);
        const double g0 = b.ops->gathered_log_marginal(&b, j, h0);
        const double g1 = b.ops->gathered_log_marginal(&b, j, h1);
        double sum0 = 0, sum1 = 0;
        for (int a = 0; a < f.view.n_active; a++)
            sum0 += b.ops->group_log_marginal(&b, &f.view, f.active[a]);
        b.ops->set_hp(&b, j, h1);
        b.ops->rebuild(&b, &f.view);
        for (int a = 0; a < f.view.n_active; a++)
            sum1 += b.ops->group_log_marginal(&b, &f.view, f.active[a]);
        b.ops->set_hp(&b, j, h0);
        b.ops->rebuild(&b, &f.view);
        const double e = fabs((g1 - g0) - (sum1 - sum0));
        if (e > worst_g) worst_g = e;
    }
    snprintf(detail, sizeof detail, "max |error| %.2e", worst_g);
    report(d.name, "gathered_log_marginal = sum of group marginals + const",
           worst_g < 1e-9, detail);

    /* rebuild after new hyperparameters keeps scores = marginal differences */
    double hp[8];
    for (int j = 0; j < F; j++) {
        const int m = b.hp_offset[j + 1] - b.hp_offset[j];
        for (int c = 0; c < m; c++) hp[c] = b.hp[b.hp_offset[j] + c];
        hp[m - 1] *= 1.7;
        b.ops->set_hp(&b, j, hp);
    }
    b.ops->rebuild(&b, &f.view);
    const char *rebuilt = b.ops->check(&b, &f.view);
    /* every free slot, beyond slot_span too, holds the empty-group tables */
    const double ghost_score = b.ops->score_slot(&b, &f.view, probe, f.view.ghost);
    for (int k = 0; k < capacity; k++)
        if (f.size[k] == 0 &&
            b.ops->score_slot(&b, &f.view, probe, k) != ghost_score)
            rebuilt = "a free slot's tables differ from the ghost's";
    const int k0 = f.active[0];
    const double s0 = b.ops->score_slot(&b, &f.view, probe, k0);
    const double m0 = b.ops->group_log_marginal(&b, &f.view, k0);
    fake_assign(&f, &b, probe, k0);
    const double m1 = b.ops->group_log_marginal(&b, &f.view, k0);
    report(d.name, "rebuild after set_hp",
           rebuilt == NULL && abs_error(s0, m1 - m0) < 1e-9,
           rebuilt ? rebuilt : "");

    /* set_stats: a block built by adding the rows in reverse order, given
     * this block's statistics, scores every row exactly as this one does
     * (a resumed chain continues bit for bit). */
    {
        block_t b2;
        fake_t f2;
        make_block(&b2, &d, capacity);
        for (int j = 0; j < F; j++) b2.ops->set_hp(&b2, j, b.hp + b.hp_offset[j]);
        b2.ops->rebuild(&b2, NULL);
        fake_init(&f2, n, capacity);
        for (int i = n - 1; i >= 0; i--)
            if (f.group[i] >= 0) fake_assign(&f2, &b2, i, f.group[i]);
        int differed = 0;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < f.view.slot_span; k++)
                if (b.ops->score_slot(&b, &f.view, i, k) !=
                    b2.ops->score_slot(&b2, &f2.view, i, k))
                    differed++;
        double stats[8];
        for (int k = 0; k < f.view.slot_span; k++)
            for (int j = 0; j < F; j++) {
                b.ops->get_stats(&b, k, j, stats);
                b2.ops->set_stats(&b2, k, j, stats);
            }
        int same = b2.ops->check(&b2, &f2.view) == NULL;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < f.view.slot_span; k++)
                if (b.ops->score_slot(&b, &f.view, i, k) !=
                    b2.ops->score_slot(&b2, &f2.view, i, k))
                    same = 0;
        char why[120];
        snprintf(why, sizeof why,
                 "%d row-slot scores differed before (a different order of "
                 "adds), 0 after", differed);
        report(d.name, "set_stats restores scores bit for bit", same, why);
        fake_free(&f2);
        b2.ops->free(&b2);
    }

    free(scores);
    fake_free(&f);
    b.ops->free(&b);
    dataset_free(&d);
}

/* ---- allocation failures ------------------------------------------------
 * The k-th allocation of block_init, then of grow, fails: init must return
 * MS_ERR_NOMEM with a block that free() releases (ASan: tools/
 * block_selftest.sh --sanitize), grow must leave the block usable. */
static void test_allocation_failures(int kind, rng_t *rng) {
    dataset_t d = make_dataset(kind, 20, 3, 0.1, rng);
    int init_failures = 0, grow_failures = 0, bad = 0;
    for (long k = 1; k < 40; k++) {
        block_t b;
        ms_alloc_fail_after(k);
        const int status = make_block(&b, &d, 4);
        ms_alloc_fail_after(0);
        if (status == MS_ERR_NOMEM) init_failures++;
        else if (status != MS_OK) bad++;
        if (status == MS_OK) {
            ms_alloc_fail_after(1 + k % 6);
            const int grown = b.ops->grow(&b, 4, 64);
            ms_alloc_fail_after(0);
            if (grown == MS_ERR_NOMEM) {
                grow_failures++;
                /* still a valid 4-slot block, and it can grow later */
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
    char detail[120];
    snprintf(detail, sizeof detail,
             "%d init and %d grow failures injected, %d bad outcomes",
             init_failures, grow_failures, bad);
    report(d.name, "allocation failures: NOMEM, free safe, state valid",
           bad == 0 && init_failures > 0 && grow_failures > 0, detail);
    dataset_free(&d);
}

/* ---- (e) log marginal against numeric integration -------------------- */

/* log of the integral of exp(g(u)) over [lo, hi] by Simpson's rule. */
typedef double (*log_integrand_fn)(double u, const void *context);

static double log_integrate(log_integrand_fn g, const void *context,
                            double lo, double hi, int steps) {
    const double h = (hi - lo) / steps;
    double top = -INFINITY;
    for (int i = 0; i <= steps; i++) {
        const double v = g(lo + i * h, context);
        if (v > top) top = v;
    }
    double sum = 0.0;
    for (int i = 0; i <= steps; i++) {
        const double w = i == 0 || i == steps ? 1 : i % 2 ? 4 : 2;
        sum += w * exp(g(lo + i * h, context) - top);
    }
    return top + log(sum * h / 3.0);
}

typedef struct {
    const double *x;
    int m;
    const double *hp;
    double r;
    double mean_fixed;     /* nich: the m of the inner integral */
} tiny_t;

/* gp: lambda = exp(u). */
static double gp_integrand(double u, const void *context) {
    const tiny_t *t = context;
    const double lambda = exp(u), alpha = t->hp[0], theta = t->hp[1];
    double s = alpha * log(lambda) - lambda / theta - log_gamma(alpha) -
               alpha * log(theta);
    for (int i = 0; i < t->m; i++)
        s += t->x[i] * log(lambda) - lambda - log_gamma(t->x[i] + 1);
    return s;
}

/* bnb: p = logistic(u), dp = p (1 - p) du. */
static double bnb_integrand(double u, const void *context) {
    const tiny_t *t = context;
    const double lp = -log1p(exp(-u)), lq = -log1p(exp(u));
    double s = t->hp[0] * lp + t->hp[1] * lq - log_beta(t->hp[0], t->hp[1]);
    for (int i = 0; i < t->m; i++)
        s += log_gamma(t->x[i] + t->r) - log_gamma(t->r) -
             log_gamma(t->x[i] + 1) + t->r * lp + t->x[i] * lq;
    return s;
}

/* nich: inner integral over v = log s2 given m; outer over m. */
static double nich_inner(double v, const void *context) {
    const tiny_t *t = context;
    const double mu = t->hp[0], kappa = t->hp[1], sigmasq = t->hp[2],
                 nu = t->hp[3], s2 = exp(v), m = t->mean_fixed;
    /* scaled-inv-chi2(nu, sigmasq) density of s2, times ds2 = s2 dv */
    double s = 0.5 * nu * log(0.5 * nu) - log_gamma(0.5 * nu) +
               0.5 * nu * log(sigmasq) - (0.5 * nu + 1) * log(s2) -
               nu * sigmasq / (2 * s2) + v;
    s += -0.5 * log(2 * M_PI * s2 / kappa) -
         kappa * (m - mu) * (m - mu) / (2 * s2);
    for (int i = 0; i < t->m; i++)
        s += -0.5 * log(2 * M_PI * s2) -
             (t->x[i] - m) * (t->x[i] - m) / (2 * s2);
    return s;
}

static double nich_outer(double m, const void *context) {
    tiny_t t = *(const tiny_t *)context;
    t.mean_fixed = m;
    return log_integrate(nich_inner, &t, -25.0, 12.0, 1200);
}

static void test_closed_form(int kind) {
    /* One feature, 5 rows, one missing, all in slot 0. */
    const int n = 5;
    static const double counts[] = {2, 0, -1, 5, 1};
    static const double reals[] = {0.3, -1.2, NAN, 2.5, 0.9};
    int32_t iv[5];
    double dv[5];
    int levels = 3, feature = 0, offsets[2] = {0, kind == 1 ? 3 : kind == 4 ? 4 : 2};
    double r = 2.5;
    double hp[4];
    for (int i = 0; i < n; i++) {
        iv[i] = counts[i] < 0 ? BLOCK_INT_NA
                              : (int32_t)(kind == 1 ? (int)counts[i] % 3 : counts[i]);
        dv[i] = reals[i];
    }
    switch (kind) {
    case 1: hp[0] = 0.7, hp[1] = 1.9, hp[2] = 0.4; break;
    case 2: hp[0] = 1.7, hp[1] = 0.8; break;
    case 3: hp[0] = 2.2, hp[1] = 1.3; break;
    default: hp[0] = 0.5, hp[1] = 1.3, hp[2] = 0.8, hp[3] = 3.0;
    }
    block_data_t data = {n, 1, kind == 4 ? NULL : iv, kind == 4 ? dv : NULL,
                         &levels, &r, NULL};
    block_t b;
    fake_t f;
    if (block_init(&b, kind, &data, &feature, offsets, hp, 4) != MS_OK) {
        report("?", "(e) init", 0, "");
        return;
    }
    fake_init(&f, n, 4);
    for (int i = 0; i < n; i++) fake_assign(&f, &b, i, 0);
    const double mine = b.ops->group_log_marginal(&b, &f.view, 0);
    double x[5];
    int m = 0;
    for (int i = 0; i < n; i++)
        if (kind == 4 ? !isnan(dv[i]) : iv[i] != BLOCK_INT_NA)
            x[m++] = kind == 4 ? dv[i] : iv[i];
    tiny_t t = {x, m, hp, r, 0};
    double reference;
    const char *how;
    switch (kind) {
    case 1: { /* Polya urn: prod over cells of (alpha_l + c_l) / (A + i) */
        double c[3] = {0, 0, 0}, A = hp[0] + hp[1] + hp[2];
        reference = 0;
        for (int i = 0; i < m; i++) {
            const int l = (int)x[i];
            reference += log((hp[l] + c[l]) / (A + i));
            c[l] += 1;
        }
        how = "Polya urn product";
        break;
    }
    case 2:
        reference = log_integrate(gp_integrand, &t, -30, 5, 200000);
        how = "Simpson over log lambda";
        break;
    case 3:
        reference = log_integrate(bnb_integrand, &t, -40, 40, 200000);
        how = "Simpson over logit p";
        break;
    default:
        reference = log_integrate(nich_outer, &t, -15, 15, 1200);
        how = "2-D Simpson over (m, log s2)";
    }
    char detail[200];
    snprintf(detail, sizeof detail, "%.10f vs %.10f (%s)", mine, reference,
             how);
    report(b.ops->name, "(e) log marginal vs closed form",
           fabs(mine - reference) < 1e-7, detail);
    fake_free(&f);
    b.ops->free(&b);
}

/* ---- (f) predictive mean, normalisation and sampler ------------------- */

static double t_of_theta(const block_t *b, int k, int j, double centre,
                         double scale, double theta, double *x_out) {
    const double x = centre + scale * tan(theta);
    const double c = cos(theta);
    *x_out = x;
    return exp(b->ops->log_predictive(b, k, j, &x)) * scale / (c * c);
}

static void test_predictive(int kind, rng_t *rng) {
    const int n = 30;
    dataset_t d = make_dataset(kind, n, 3, 0.1, rng);
    block_t b;
    fake_t f;
    make_block(&b, &d, 4);
    fake_init(&f, n, 4);
    for (int i = 0; i < n; i++) fake_assign(&f, &b, i, i % 2);
    char detail[240];
    int ok = 1;
    double worst_mean = 0, worst_total = 0;
    for (int j = 0; j < 3; j++)
        for (int k = 0; k < 3; k++) { /* slots 0, 1 and the empty ghost 2 */
            double mean[8], total = 0, first = 0;
            b.ops->predictive_mean(&b, k, j, mean);
            if (kind == BLOCK_DIRICHLET_DISCRETE) {
                for (int l = 0; l < d.n_levels[j]; l++) {
                    const double cell = l;
                    const double pr = exp(b.ops->log_predictive(&b, k, j, &cell));
                    total += pr;
                    if (fabs(pr - mean[l]) > worst_mean)
                        worst_mean = fabs(pr - mean[l]);
                }
                first = mean[0];
            } else if (kind == BLOCK_NORMAL_INVERSE_CHISQ) {
                /* x = centre + scale tan(theta) maps the line to
                 * (-pi/2, pi/2); the t tails make the integrand bounded. */
                const double centre = mean[0];
                const double scale = j % 2 ? 0.01 : 1.0;
                const int steps = 400000;
                const double lo = -M_PI / 2, h = M_PI / steps;
                double m1 = 0;
                for (int i = 1; i < steps; i++) {
                    double x;
                    const double w = i % 2 ? 4 : 2;
                    const double dens =
                        t_of_theta(&b, k, j, centre, scale, lo + i * h, &x);
                    total += w * dens;
                    m1 += w * dens * (x - centre);
                }
                total *= h / 3;
                first = centre + m1 * h / 3;
                if (getenv("SELFTEST_DEBUG"))
                    printf("j %d k %d total %g mean %g vs %g\n", j, k, total,
                           first, mean[0]);
                if (fabs(first - mean[0]) > worst_mean)
                    worst_mean = fabs(first - mean[0]);
            } else {
                double m1 = 0;
                for (int x = 0; x < 2000000; x++) {
                    const double cell = x;
                    const double pr = exp(b.ops->log_predictive(&b, k, j, &cell));
                    total += pr;
                    m1 += x * pr;
                    if (x > 50 && pr * x * x < 1e-18) break;
                }
                if (fabs(m1 - mean[0]) / (1 + mean[0]) > worst_mean)
                    worst_mean = fabs(m1 - mean[0]) / (1 + mean[0]);
                first = m1;
            }
            if (fabs(total - 1) > worst_total) worst_total = fabs(total - 1);
            (void)first;
        }
    ok = worst_mean < 1e-6 && worst_total < 1e-6;
    snprintf(detail, sizeof detail,
             "max |mean error| %.2e, max |total - 1| %.2e (slots 0, 1, ghost)",
             worst_mean, worst_total);
    report(d.name, "(f) predictive mean and mass vs numeric sum/integral", ok,
           detail);

    /* The sampler: draws' mean against predictive_mean (z-score), and for
     * discrete kinds a chi-square of draw frequencies against the pmf. */
    const int draws = 200000, j = 0, k = 0;
    double mean[8], sum = 0, squares = 0;
    b.ops->predictive_mean(&b, k, j, mean);
    enum { BINS = 12 };
    double observed[BINS] = {0}, expected[BINS] = {0};
    for (int i = 0; i < draws; i++) {
        double x;
        b.ops->sample_predictive(&b, k, j, rng, &x);
        if (kind == BLOCK_DIRICHLET_DISCRETE) {
            observed[(int)x]++;
        } else {
            sum += x;
            squares += x * x;
            if (kind != BLOCK_NORMAL_INVERSE_CHISQ)
                observed[x < BINS - 1 ? (int)x : BINS - 1]++;
        }
    }
    double chi2 = 0;
    int bins = 0;
    if (kind != BLOCK_NORMAL_INVERSE_CHISQ) {
        const int used = kind == BLOCK_DIRICHLET_DISCRETE ? d.n_levels[j] : BINS;
        double rest = 1;
        for (int x = 0; x < used; x++) {
            const double cell = x;
            const double pr = x < used - 1 || kind == BLOCK_DIRICHLET_DISCRETE
                                  ? exp(b.ops->log_predictive(&b, k, j, &cell))
                                  : rest;
            rest -= pr;
            expected[x] = pr * draws;
        }
        for (int x = 0; x < used; x++)
            if (expected[x] > 0) {
                chi2 += (observed[x] - expected[x]) * (observed[x] - expected[x]) /
                        expected[x];
                bins++;
            }
        /* 0.999 quantiles of chi-square with bins - 1 df (11 or k - 1). */
        const double critical = bins - 1 == 11 ? 31.26 : bins - 1 == 1 ? 10.83 : 13.82;
        snprintf(detail, sizeof detail, "chi-square %.1f on %d df (critical %.1f)",
                 chi2, bins - 1, critical);
        report(d.name, "(f) predictive draws vs pmf", chi2 < critical, detail);
    }
    if (kind != BLOCK_DIRICHLET_DISCRETE) {
        const double m = sum / draws, var = squares / draws - m * m;
        const double z = (m - mean[0]) / sqrt(var / draws);
        snprintf(detail, sizeof detail, "draws' mean %.5f vs %.5f, z = %.2f", m,
                 mean[0], z);
        report(d.name, "(f) predictive draws' mean", fabs(z) < 4.5, detail);
    }
    fake_free(&f);
    b.ops->free(&b);
    dataset_free(&d);
}

/* ---- (g) slice kernel's stationary distribution ----------------------- */

static const block_ops_t *true_ops;
static double tempered_gathered(const block_t *b, int j, const double *hp) {
    return 1.5 * true_ops->gathered_log_marginal(b, j, hp);
}

typedef struct {
    block_t *b;
    int j, c;
    double *hp;
    int log_scale;
} coordinate_t;

/* log density of the coordinate (in u = log x when log_scale). */
static double coordinate_log_density(double u, const void *context) {
    const coordinate_t *t = context;
    const double x = t->log_scale ? exp(u) : u;
    const double prior = t->b->ops->hp_log_prior(t->b, t->j, t->c, x);
    if (!isfinite(prior)) return -INFINITY;
    const double saved = t->hp[t->c];
    t->hp[t->c] = x;
    const double v = prior + t->b->ops->gathered_log_marginal(t->b, t->j, t->hp);
    t->hp[t->c] = saved;
    return v + (t->log_scale ? u : 0);
}

/* Chi-square of `draws` slice updates (thinned by 5) of coordinate c of
 * feature 0 against the quadrature of the block's own target. With
 * `wrong`, the kernel runs on a tempered likelihood instead. */
static double slice_chi_square(block_t *b, const partition_view_t *p, int j,
                               int c, int wrong, rng_t *rng) {
    enum { BINS = 20, GRID = 20000 };
    const int n_hp = b->hp_offset[j + 1] - b->hp_offset[j];
    double hp[4], lower, upper;
    for (int i = 0; i < n_hp; i++) hp[i] = b->hp[b->hp_offset[j] + i];
    b->ops->hp_support(b, j, c, &lower, &upper);
    const int log_scale = lower >= 0;
    b->ops->gather(b, p, j);
    coordinate_t t = {b, j, c, hp, log_scale};
    /* the grid: where the density is within 40 of its top */
    double lo = log_scale ? (lower > 0 ? log(lower) : -40) : -1e3;
    double hi = log_scale ? log(upper < 1e12 ? upper : 1e12) : 1e3;
    if (!log_scale) {
        const double scale = b->ops->hp_scale(b, j, c);
        lo = hp[c] - 200 * scale, hi = hp[c] + 200 * scale;
    }
    static double logd[GRID + 1], cdf[GRID + 1];
    for (int pass = 0; pass < 2; pass++) {
        double top = -INFINITY;
        for (int i = 0; i <= GRID; i++) {
            logd[i] = coordinate_log_density(lo + (hi - lo) * i / GRID, &t);
            if (logd[i] > top) top = logd[i];
        }
        int first = GRID, last = 0;
        for (int i = 0; i <= GRID; i++)
            if (logd[i] > top - 40) {
                if (i < first) first = i;
                last = i;
            }
        if (pass == 0) {
            const double step = (hi - lo) / GRID;
            const double new_lo = lo + (first > 0 ? first - 1 : 0) * step;
            hi = lo + (last < GRID ? last + 1 : GRID) * step;
            lo = new_lo;
        }
    }
    cdf[0] = 0;
    double top = -INFINITY;
    for (int i = 0; i <= GRID; i++) if (logd[i] > top) top = logd[i];
    for (int i = 1; i <= GRID; i++)
        cdf[i] = cdf[i - 1] + 0.5 * (exp(logd[i] - top) + exp(logd[i - 1] - top));
    double edges[BINS + 1];
    edges[0] = -INFINITY;
    edges[BINS] = INFINITY;
    for (int q = 1, i = 0; q < BINS; q++) {
        const double target = cdf[GRID] * q / BINS;
        while (cdf[i + 1] < target) i++;
        const double frac = (target - cdf[i]) / (cdf[i + 1] - cdf[i]);
        edges[q] = lo + (hi - lo) * (i + frac) / GRID;
    }
    block_ops_t tempered;
    const block_ops_t *saved_ops = b->ops;
    if (wrong) {
        tempered = *b->ops;
        true_ops = b->ops;
        tempered.gathered_log_marginal = tempered_gathered;
        b->ops = &tempered;
    }
    const int draws = 8000, thin = 5;
    double counts[BINS] = {0};
    for (int i = 0; i < 200; i++)
        slice_block_hp_coordinate(b, j, c, hp, 1.0, rng);
    for (int i = 0; i < draws * thin; i++) {
        slice_block_hp_coordinate(b, j, c, hp, 1.0, rng);
        if (i % thin) continue;
        const double u = log_scale ? log(hp[c]) : hp[c];
        int q = 0;
        while (q < BINS - 1 && u > edges[q + 1]) q++;
        counts[q]++;
    }
    b->ops = saved_ops;
    double chi2 = 0;
    for (int q = 0; q < BINS; q++) {
        const double e = (double)draws / BINS;
        chi2 += (counts[q] - e) * (counts[q] - e) / e;
    }
    return chi2;
}

static void test_slice(int kind, rng_t *rng) {
    /* nich gets a second feature, the column at 1000 with sd 0.01: the
     * kernel must work in any units. */
    const int n = 40, F = kind == BLOCK_NORMAL_INVERSE_CHISQ ? 2 : 1;
    dataset_t d = make_dataset(kind, n, F, 0.1, rng);
    block_t b;
    fake_t f;
    make_block(&b, &d, 4);
    fake_init(&f, n, 4);
    for (int i = 0; i < n; i++) fake_assign(&f, &b, i, i % 3);
    const double critical = 43.82; /* chi-square 19 df, 0.999 */
    for (int j = 0; j < F; j++) {
        const int n_hp = b.hp_offset[j + 1] - b.hp_offset[j];
        double original[4];
        for (int c = 0; c < n_hp && c < 4; c++)
            original[c] = b.hp[b.hp_offset[j] + c];
        for (int c = 0; c < n_hp && c < 4; c++) {
            char what[80], detail[120];
            b.ops->set_hp(&b, j, original);
            const double good = slice_chi_square(&b, &f.view, j, c, 0, rng);
            b.ops->set_hp(&b, j, original);
            const double bad = slice_chi_square(&b, &f.view, j, c, 1, rng);
            b.ops->set_hp(&b, j, original);
            snprintf(what, sizeof what,
                     "(g) slice kernel, feature %d coordinate %d", j, c);
            snprintf(detail, sizeof detail,
                     "chi-square %.1f (critical %.1f); tempered target %.1f",
                     good, critical, bad);
            report(d.name, what, good < critical && bad > critical, detail);
        }
    }
    /* the whole kernel leaves a consistent block */
    int features[2] = {0, 1};
    int status = MS_OK;
    for (int i = 0; i < 50 && status == MS_OK; i++)
        status = kernel_slice_block_hp(&b, &f.view, features, F, 1.0, rng);
    const char *audit = b.ops->check(&b, &f.view);
    report(d.name, "kernel_slice_block_hp: status and check()",
           status == MS_OK && audit == NULL, audit ? audit : "");
    fake_free(&f);
    b.ops->free(&b);
    dataset_free(&d);
}

/* The whole kernel (both coordinates of gp, one kernel call per draw)
 * against a 2-D quadrature of prior x marginal over (log alpha, log
 * inv_beta): chi-square of the draws of alpha over 20 equiprobable bins of
 * its marginal; the tempered target must fail. */
static double joint_chi_square(int wrong, rng_t *rng) {
    enum { BINS = 20, GRID = 800 };
    const int n = 40;
    rng_t data_rng; /* the same data for the right and the wrong target */
    rng_seed(&data_rng, 777);
    dataset_t d = make_dataset(BLOCK_GAMMA_POISSON, n, 1, 0.1, &data_rng);
    block_t b;
    fake_t f;
    make_block(&b, &d, 4);
    fake_init(&f, n, 4);
    for (int i = 0; i < n; i++) fake_assign(&f, &b, i, i % 3);
    b.ops->gather(&b, &f.view, 0);
    const double c1 = log(b.hp[0]), c2 = log(b.hp[1]);
    const double lo1 = c1 - 16, hi1 = c1 + 16, lo2 = c2 - 16, hi2 = c2 + 16;
    static double marginal[GRID + 1], logd[GRID + 1][GRID + 1];
    double top = -INFINITY, edge = -INFINITY;
    for (int i = 0; i <= GRID; i++)
        for (int k = 0; k <= GRID; k++) {
            const double u1 = lo1 + (hi1 - lo1) * i / GRID;
            const double u2 = lo2 + (hi2 - lo2) * k / GRID;
            double hp[2] = {exp(u1), exp(u2)};
            b.hp[0] = hp[0], b.hp[1] = hp[1];
            const double v = b.ops->hp_log_prior(&b, 0, 0, hp[0]) +
                             b.ops->hp_log_prior(&b, 0, 1, hp[1]) +
                             b.ops->gathered_log_marginal(&b, 0, hp) + u1 + u2;
            logd[i][k] = v;
            if (v > top) top = v;
            if ((i == 0 || k == 0 || i == GRID || k == GRID) && v > edge) edge = v;
        }
    b.hp[0] = exp(c1), b.hp[1] = exp(c2);
    for (int i = 0; i <= GRID; i++) {
        marginal[i] = 0;
        for (int k = 0; k <= GRID; k++) marginal[i] += exp(logd[i][k] - top);
    }
    double cdf[GRID + 1];
    cdf[0] = 0;
    for (int i = 1; i <= GRID; i++)
        cdf[i] = cdf[i - 1] + 0.5 * (marginal[i] + marginal[i - 1]);
    double edges[BINS + 1];
    for (int q = 1, i = 0; q < BINS; q++) {
        const double target = cdf[GRID] * q / BINS;
        while (cdf[i + 1] < target) i++;
        edges[q] = lo1 + (hi1 - lo1) * (i + (target - cdf[i]) /
                                               (cdf[i + 1] - cdf[i])) / GRID;
    }
    block_ops_t tempered = *b.ops;
    true_ops = b.ops;
    tempered.gathered_log_marginal = tempered_gathered;
    if (wrong) b.ops = &tempered;
    int features[1] = {0};
    const int draws = 8000, thin = 5;
    double counts[BINS] = {0};
    for (int i = 0; i < draws * thin + 200; i++) {
        kernel_slice_block_hp(&b, &f.view, features, 1, 1.0, rng);
        if (i < 200 || i % thin) continue;
        const double u = log(b.hp[0]);
        int q = 0;
        while (q < BINS - 1 && u > edges[q + 1]) q++;
        counts[q]++;
    }
    b.ops = true_ops;
    double chi2 = 0;
    for (int q = 0; q < BINS; q++) {
        const double e = (double)draws / BINS;
        chi2 += (counts[q] - e) * (counts[q] - e) / e;
    }
    if (edge > top - 30) {
        printf("gp    the 2-D grid misses mass (edge %.1f, top %.1f)\n", edge,
               top);
        chi2 = NAN; /* fails both comparisons below */
    }
    fake_free(&f);
    b.ops->free(&b);
    dataset_free(&d);
    return chi2;
}

static void test_joint_kernel(rng_t *rng) {
    char detail[120];
    const double good = joint_chi_square(0, rng);
    const double bad = joint_chi_square(1, rng);
    snprintf(detail, sizeof detail,
             "alpha's marginal: chi-square %.1f (critical 43.8); tempered "
             "target %.1f", good, bad);
    report("gp", "(g) whole kernel vs 2-D quadrature", good < 43.82 && bad > 43.82,
           detail);
}

/* ---- micro-benchmark -------------------------------------------------- */

/* CPU time of this process: on a shared machine, closer to the work done
 * than wall time (still slowed by a busy sibling core's caches). */
static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double benchmark(int kind, rng_t *rng, double *move_ns) {
    const int n = 100000, F = 10, groups = 20, capacity = 32;
    dataset_t d = make_dataset(kind, n, F, 0.05, rng);
    block_t b;
    fake_t f;
    make_block(&b, &d, capacity);
    fake_init(&f, n, capacity);
    for (int i = 0; i < n; i++) {
        const int k = (int)rng_below(rng, groups);
        f.size[k]++;
        f.group[i] = k;
        b.ops->add_row(&b, &f.view, i, k);
    }
    fake_refresh(&f);
    double *scores = malloc(sizeof(double) * capacity);
    double best = INFINITY, sink = 0;
    for (int rep = 0; rep < 3; rep++) {
        const double start = now_seconds();
        for (int i = 0; i < n; i++) {
            b.ops->score_all(&b, &f.view, i, scores, 0);
            sink += scores[f.view.ghost];
        }
        const double t = now_seconds() - start;
        if (t < best) best = t;
    }
    /* a move: remove from the row's group and add to another */
    const double start = now_seconds();
    for (int i = 0; i < n; i++) {
        const int k = f.group[i], to = (k + 1) % groups;
        b.ops->remove_row(&b, &f.view, i, k);
        b.ops->add_row(&b, &f.view, i, to);
        f.group[i] = to;
    }
    *move_ns = (now_seconds() - start) * 1e9 / ((double)n * F);
    if (sink == 12345.678) printf("%g\n", sink);
    free(scores);
    fake_free(&f);
    b.ops->free(&b);
    dataset_free(&d);
    return best * 1e9 / ((double)n * (groups + 1) * F);
}

/* The reference unit: ns per libm log() call, in a loop like a score's
 * (independent arguments, summed). */
static double log_baseline(void) {
    static double x[1000];
    for (int i = 0; i < 1000; i++) x[i] = 1.0 + i * 0.37;
    double best = INFINITY, sink = 0;
    for (int rep = 0; rep < 3; rep++) {
        const double start = now_seconds();
        for (int r = 0; r < 5000; r++)
            for (int i = 0; i < 1000; i++) sink += log(x[i] + r * 1e-9);
        const double t = now_seconds() - start;
        if (t < best) best = t;
    }
    if (sink == 12345.678) printf("%g\n", sink);
    return best * 1e9 / 5e6;
}


/* ---- the partition's group-level ops: copy_slot, merged_log_marginal,
 * recount ------------------------------------------------------------- */

static void test_group_ops(int kind, rng_t *rng) {
    const int n = 60, F = 3, capacity = 16;
    dataset_t d = make_dataset(kind, n, F, 0.15, rng);
    block_t b, fresh;
    fake_t f;
    char detail[200];
    if (make_block(&b, &d, capacity) != MS_OK ||
        make_block(&fresh, &d, capacity) != MS_OK) {
        report(d.name, "group ops: init", 0, "");
        dataset_free(&d);
        return;
    }
    fake_init(&f, n, capacity);
    for (int i = 0; i < n; i++) fake_assign(&f, &b, i, (int)rng_below(rng, 4));
    /* merged_log_marginal(k1, k2) against the marginal of a slot holding
     * the rows of both */
    double worst_merge = 0;
    for (int k1 = 0; k1 < 4; k1++)
        for (int k2 = k1 + 1; k2 < 4; k2++) {
            const double merged = b.ops->merged_log_marginal(&b, &f.view, k1, k2);
            const int work = 10;
            for (int i = 0; i < n; i++)
                if (f.group[i] == k1 || f.group[i] == k2) {
                    f.size[work]++;
                    b.ops->add_row(&b, &f.view, i, work);
                }
            const double direct = b.ops->group_log_marginal(&b, &f.view, work);
            const double e = fabs(merged - direct) / (1 + fabs(direct));
            if (e > worst_merge) worst_merge = e;
            for (int i = 0; i < n; i++)
                if (f.group[i] == k1 || f.group[i] == k2) {
                    f.size[work]--;
                    b.ops->remove_row(&b, &f.view, i, work);
                }
            b.ops->clear_slot(&b, &f.view, work);
        }
    snprintf(detail, sizeof detail, "worst relative error %.2g", worst_merge);
    report(d.name, "merged_log_marginal = marginal of the union", worst_merge < 1e-10,
           detail);
    /* copy_slot: slot 2 copied to free slot 7 scores every row alike */
    b.ops->copy_slot(&b, &f.view, 2, 7);
    double worst_copy = 0;
    for (int i = 0; i < n; i++) {
        if (f.group[i] == 2) continue;
        const double e = fabs(b.ops->score_slot(&b, &f.view, i, 2) -
                              b.ops->score_slot(&b, &f.view, i, 7));
        if (e > worst_copy) worst_copy = e;
    }
    worst_copy += fabs(b.ops->group_log_marginal(&b, &f.view, 2) -
                       b.ops->group_log_marginal(&b, &f.view, 7));
    report(d.name, "copy_slot copies scores and marginal exactly",
           worst_copy == 0, "");
    b.ops->clear_slot(&b, &f.view, 7);
    /* recount + rebuild on a fresh block equals the incremental one */
    fresh.ops->recount(&fresh, &f.view);
    fresh.ops->rebuild(&fresh, &f.view);
    const char *audit = fresh.ops->check(&fresh, &f.view);
    double worst_recount = 0;
    for (int k = 0; k < 5; k++) {
        const double e = fabs(fresh.ops->group_log_marginal(&fresh, &f.view, k) -
                              b.ops->group_log_marginal(&b, &f.view, k));
        if (e > worst_recount) worst_recount = e;
        for (int i = 0; i < n; i++) {
            if (f.group[i] == k) continue;
            const double s = fabs(fresh.ops->score_slot(&fresh, &f.view, i, k) -
                                  b.ops->score_slot(&b, &f.view, i, k));
            if (s > worst_recount) worst_recount = s;
        }
    }
    snprintf(detail, sizeof detail, "%s, worst difference %.2g",
             audit ? audit : "audit clean", worst_recount);
    report(d.name, "recount + rebuild = incremental counts",
           audit == NULL && worst_recount < 1e-9, detail);
    b.ops->free(&b);
    fresh.ops->free(&fresh);
    fake_free(&f);
    dataset_free(&d);
}


/* ---- bb's score_all, bit for bit, over many blocks of slots ------------
 * score_all scores two blocks of 8 slots per pass (block_bb_score.c); each
 * slot's sum must be the very chain of adds of score_slot, so that the
 * sweep's draws do not change: compared with ==, over 37 groups (an odd
 * number of blocks: the last one alone), rows with missing cells too. */

static void test_bb_score_all_exact(rng_t *rng) {
    const int n = 300, D = 40, K = 37, capacity = 48;
    uint8_t *codes = malloc((size_t)n * D);
    for (int i = 0; i < n; i++)
        for (int d = 0; d < D; d++) {
            const double u = rng_unif(rng);
            codes[(size_t)i * D + d] = u < 0.05 ? CODE_MISSING
                                       : u < 0.05 + 0.3 * (1 + (i % K) % 3) / 3
                                           ? CODE_ON
                                           : CODE_OFF;
        }
    long n_on, n_missing;
    data_count_entries(codes, n, D, &n_on, &n_missing);
    int *on_start = malloc(sizeof(int) * (n + 1));
    int *on_feature = malloc(sizeof(int) * (n_on + 1));
    int *missing_start = malloc(sizeof(int) * (n + 1));
    int *missing_feature = malloc(sizeof(int) * (n_missing + 1));
    data_fill_index(codes, n, D, on_start, on_feature, missing_start,
                    missing_feature);
    const data_t bb_data = {n, D, codes, on_start, on_feature, missing_start,
                            missing_feature};
    int *ids = malloc(sizeof(int) * D), *offsets = malloc(sizeof(int) * (D + 1));
    double *hp = malloc(sizeof(double) * 2 * D);
    for (int d = 0; d < D; d++) {
        ids[d] = d;
        offsets[d] = 2 * d;
        hp[2 * d] = 0.3 + 0.1 * (d % 7);
        hp[2 * d + 1] = 1.7 - 0.1 * (d % 5);
    }
    offsets[D] = 2 * D;
    block_data_t data = {0};
    data.n = n;
    data.n_features = D;
    data.bb = &bb_data;
    block_t b;
    fake_t f;
    int mismatches = 0, compared = 0;
    if (block_init(&b, BLOCK_BETA_BERNOULLI, &data, ids, offsets, hp,
                   capacity) != MS_OK) {
        report("bb", "init for score_all over many slots", 0, "");
    } else {
        fake_init(&f, n, capacity);
        for (int i = 0; i < n; i++) fake_assign(&f, &b, i, i % K);
        /* Distinct hyperparameters and rebuilt tables: the path of a chain
         * after a hyperparameter kernel. */
        b.ops->rebuild(&b, &f.view);
        double *scores = malloc(sizeof(double) * capacity);
        for (int row = 0; row < n; row++) {
            b.ops->score_all(&b, &f.view, row, scores, 0);
            for (int a = 0; a <= f.view.n_active; a++) {
                const int k = a < f.view.n_active ? f.active[a] : f.view.ghost;
                compared++;
                mismatches += scores[k] != b.ops->score_slot(&b, &f.view, row, k);
            }
        }
        free(scores);
        fake_free(&f);
        b.ops->free(&b);
    }
    char detail[100];
    snprintf(detail, sizeof detail, "%d of %d scores differ in any bit",
             mismatches, compared);
    report("bb", "score_all == score_slot bit for bit, 37 groups",
           mismatches == 0 && compared > 0, detail);
    free(codes), free(on_start), free(on_feature), free(missing_start);
    free(missing_feature), free(ids), free(offsets), free(hp);
}

/* ---- bb's predictive ops on a block rebuilt from saved counts (no data,
 * as queries build it) ------------------------------------------------ */

static void test_bb_from_stats(rng_t *rng) {
    const int F = 2, capacity = 8;
    const int ids[] = {0, 1}, offsets[] = {0, 2, 4};
    const double hp[] = {0.5, 2.0, 3.0, 1.5};
    block_data_t data = {0};
    data.n = 0;
    data.n_features = F;
    block_t b;
    if (block_init(&b, BLOCK_BETA_BERNOULLI, &data, ids, offsets, hp,
                   capacity) != MS_OK) {
        report("bb", "init without data", 0, "");
        return;
    }
    const double counts[] = {3, 4, 0, 7};
    b.ops->set_stats(&b, 2, 0, counts);
    b.ops->set_stats(&b, 2, 1, counts + 2);
    double worst = 0;
    for (int j = 0; j < F; j++) {
        const double h = counts[2 * j], t = counts[2 * j + 1];
        const double expected = (hp[2 * j] + h) / (hp[2 * j] + hp[2 * j + 1] + h + t);
        double mean, one = 1, zero = 0;
        b.ops->predictive_mean(&b, 2, j, &mean);
        worst = fmax(worst, fabs(mean - expected));
        worst = fmax(worst, fabs(exp(b.ops->log_predictive(&b, 2, j, &one)) +
                                 exp(b.ops->log_predictive(&b, 2, j, &zero)) - 1));
        worst = fmax(worst, fabs(exp(b.ops->log_predictive(&b, 2, j, &one)) - expected));
        int ones = 0;
        const int draws = 100000;
        for (int r = 0; r < draws; r++) {
            double x;
            b.ops->sample_predictive(&b, 2, j, rng, &x);
            ones += x == 1.0;
        }
        const double z = (ones - draws * expected) /
                         sqrt(draws * expected * (1 - expected));
        char detail[100];
        snprintf(detail, sizeof detail, "feature %d: z = %.2f", j, z);
        report("bb", "predictive draws from saved counts", fabs(z) < 4, detail);
    }
    const double marginal = b.ops->group_log_marginal(&b, NULL, 2);
    const double closed = log_beta(hp[0] + 3, hp[1] + 4) - log_beta(hp[0], hp[1]) +
                          log_beta(hp[2] + 0, hp[3] + 7) - log_beta(hp[2], hp[3]);
    worst = fmax(worst, fabs(marginal - closed));
    char detail[100];
    snprintf(detail, sizeof detail, "max |error| %.2g", worst);
    report("bb", "predictive mean, mass and marginal from saved counts",
           worst < 1e-12, detail);
    b.ops->free(&b);
}

int main(int argc, char **argv) {
    rng_t rng;
    rng_seed(&rng, 20240611);
    const int kinds[] = {BLOCK_DIRICHLET_DISCRETE, BLOCK_GAMMA_POISSON,
                         BLOCK_BETA_NEGATIVE_BINOMIAL,
                         BLOCK_NORMAL_INVERSE_CHISQ};
    const int bench = !(argc > 1 && strcmp(argv[1], "--no-bench") == 0);
    for (int i = 0; i < 4; i++) {
        test_scores(kinds[i], &rng);
        test_group_ops(kinds[i], &rng);
        test_allocation_failures(kinds[i], &rng);
        test_closed_form(kinds[i]);
        test_predictive(kinds[i], &rng);
        test_slice(kinds[i], &rng);
    }
    test_joint_kernel(&rng);
    test_bb_from_stats(&rng);
    test_bb_score_all_exact(&rng);
    if (bench) {
        with_outliers = 0;
        printf("\nscore_all, n = 100000, F = 10, 20 groups + ghost "
               "(best of 3 sweeps, CPU time):\n");
        const double log_ns = log_baseline();
        printf("reference: %.2f ns per libm log() call\n", log_ns);
        for (int i = 0; i < 4; i++) {
            double move_ns;
            const double ns = benchmark(kinds[i], &rng, &move_ns);
            static const char *names[] = {"bb", "dd", "gp", "bnb", "nich"};
            printf("%-5s %6.2f ns per row-group-feature score (%.2f log() "
                   "calls), %6.1f ns per feature per remove+add move\n",
                   names[kinds[i]], ns, ns / log_ns, move_ns);
        }
    }
    printf("\n%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}

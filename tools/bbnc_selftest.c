/* Standalone self-test of the non-conjugate beta-Bernoulli block
 * (src/block_bbnc*.c) against a small fake partition:
 * tools/bbnc_selftest.sh builds and runs it. Checks:
 *  (a) with explicit p's (set_stats), score_slot = score_slot_loo = the
 *      row's log likelihood given p, computed here; score_all agrees on
 *      every active slot, and the ghost scores the prior predictive;
 *  (b) group_log_marginal = h log p + t log(1 - p) + log Beta(p | a, b);
 *  (c) after a recount (no p), the collapsed predictive and leave-one-out
 *      predictive and the collapsed marginal, as log_lik() needs them;
 *      get_stats reports the posterior mean;
 *  (d) draw_slot_parameters: the mean of p over draws is the Beta
 *      posterior's (within 4.5 standard errors), and the held logs are
 *      those of one p; a draw that forgot the counts fails the same check;
 *  (e) draw_auxiliary under Beta(0.01, 1): every log p finite, and the
 *      share of draws below 1e-100 is P(p < 1e-100) = 1e-100^0.01 = 0.1
 *      (such p's are 0 as doubles: the reason p is held in logs);
 *  (f) gathered_log_marginal (the hp kernel's target) against a sum of
 *      Beta log densities; check() catches a corrupted count;
 *  (g) every allocation of init and reserve_auxiliary failing in turn:
 *      MS_ERR_NOMEM and a block that frees cleanly (run --sanitize).
 * Exit status 0 iff every check passed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../src/alloc.h"
#include "../src/block.h"
#include "../src/log_gamma.h"
#include "../src/rng.h"
#include "../src/status.h"

static int failures = 0;

static void report(const char *what, int ok, double detail) {
    printf("bbnc  %-4s %s (%.3g)\n", ok ? "ok" : "FAIL", what, detail);
    if (!ok) failures++;
}

enum { N = 12, F = 3, CAP = 8 };

static int32_t cells[N * F];
static int group_of_row[N], size[CAP], active[CAP];

static partition_view_t view(void) {
    int m = 0;
    for (int k = 0; k < CAP; k++) size[k] = 0;
    for (int i = 0; i < N; i++) size[group_of_row[i]]++;
    for (int k = 0; k < CAP; k++)
        if (size[k] > 0) active[m++] = k;
    partition_view_t p = {N, CAP, CAP, size, group_of_row, active, m, 5};
    return p;
}

static int make(block_t *b, const double *hp) {
    static const int ids[F] = {0, 1, 2};
    static const int offset[F + 1] = {0, 2, 4, 6};
    block_data_t data = {N, F, cells, NULL, NULL, NULL, NULL, NULL, F};
    return block_init(b, BLOCK_BETA_BERNOULLI_NONCONJ, &data, ids, offset, hp, CAP);
}

int main(void) {
    rng_t rng;
    rng_seed(&rng, 20261202);
    for (int i = 0; i < N * F; i++)
        cells[i] = rng_unif(&rng) < 0.1 ? BLOCK_INT_NA : rng_unif(&rng) < 0.4;
    for (int i = 0; i < N; i++) group_of_row[i] = i % 3;   /* slots 0, 1, 2 */
    const double hp[2 * F] = {0.5, 0.5, 1.0, 2.0, 2.0, 1.0};
    block_t b;
    if (make(&b, hp) != MS_OK) { printf("init failed\n"); return 1; }
    partition_view_t p = view();
    b.ops->recount(&b, &p);
    b.ops->rebuild(&b, &p);

    /* (c) no p yet: collapsed scores. */
    double worst = 0;
    for (int i = 0; i < N; i++) {
        const int k = group_of_row[i];
        double loo = 0, pred = 0;
        for (int j = 0; j < F; j++) {
            const int32_t x = cells[i * F + j];
            if (x == BLOCK_INT_NA) continue;
            int h = 0, t = 0;
            for (int r = 0; r < N; r++) {
                if (group_of_row[r] != k || cells[r * F + j] == BLOCK_INT_NA) continue;
                h += cells[r * F + j] == 1;
                t += cells[r * F + j] == 0;
            }
            const double a = hp[2 * j], c = hp[2 * j + 1];
            pred += log((x ? a + h : c + t) / (a + c + h + t));
            loo += log((x ? a + h - 1 : c + t - 1) / (a + c + h + t - 1));
        }
        worst = fmax(worst, fabs(loo - b.ops->score_slot_loo(&b, &p, i, k)));
        worst = fmax(worst, fabs(pred - b.ops->score_slot(&b, &p, i, k)));
    }
    report("collapsed scores of groups without p", worst < 1e-12, worst);
    double stats[5];
    b.ops->get_stats(&b, 0, 1, stats);
    report("get_stats: posterior mean of a group without p",
           fabs(stats[2] - (1.0 + stats[0]) / (3.0 + stats[0] + stats[1])) < 1e-12, stats[2]);

    /* (a), (b) explicit p's. */
    double pk[3][F];
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < F; j++) {
            double in[5];
            b.ops->get_stats(&b, k, j, in);
            pk[k][j] = 0.1 + 0.25 * k + 0.05 * j;
            in[2] = pk[k][j];
            in[3] = log(pk[k][j]);
            in[4] = log1p(-pk[k][j]);
            b.ops->set_stats(&b, k, j, in);
        }
    double scores[CAP];
    worst = 0;
    for (int i = 0; i < N; i++) {
        b.ops->score_all(&b, &p, i, scores, 0);
        for (int k = 0; k < 3; k++) {
            double s = 0;
            for (int j = 0; j < F; j++) {
                const int32_t x = cells[i * F + j];
                if (x != BLOCK_INT_NA) s += x ? log(pk[k][j]) : log1p(-pk[k][j]);
            }
            worst = fmax(worst, fabs(s - b.ops->score_slot(&b, &p, i, k)));
            worst = fmax(worst, fabs(s - b.ops->score_slot_loo(&b, &p, i, k)));
            worst = fmax(worst, fabs(s - scores[k]));
        }
        double ghost = 0;
        for (int j = 0; j < F; j++) {
            const int32_t x = cells[i * F + j];
            if (x != BLOCK_INT_NA)
                ghost += log((x ? hp[2 * j] : hp[2 * j + 1]) / (hp[2 * j] + hp[2 * j + 1]));
        }
        worst = fmax(worst, fabs(ghost - scores[5]));
    }
    report("scores given p, and the ghost's prior predictive", worst < 1e-12, worst);
    worst = 0;
    for (int k = 0; k < 3; k++) {
        double s = 0;
        for (int j = 0; j < F; j++) {
            double st[5];
            b.ops->get_stats(&b, k, j, st);
            const double a = hp[2 * j], c = hp[2 * j + 1];
            s += st[0] * log(pk[k][j]) + st[1] * log1p(-pk[k][j]) +
                 (a - 1) * log(pk[k][j]) + (c - 1) * log1p(-pk[k][j]) - log_beta(a, c);
        }
        worst = fmax(worst, fabs(s - b.ops->group_log_marginal(&b, &p, k)));
    }
    report("group_log_marginal = likelihood given p + log Beta(p)", worst < 1e-12, worst);

    /* (f) the hp kernel's target. */
    b.ops->gather(&b, &p, 2);
    const double at[2] = {3.0, 0.7};
    double target = 0;
    for (int k = 0; k < 3; k++)
        target += (at[0] - 1) * log(pk[k][2]) + (at[1] - 1) * log1p(-pk[k][2]) -
                  log_beta(at[0], at[1]);
    const double got = b.ops->gathered_log_marginal(&b, 2, at);
    report("gathered_log_marginal = sum of log Beta(p_k | a, b)", fabs(got - target) < 1e-12,
           fabs(got - target));
    report("check() passes", b.ops->check(&b, &p) == NULL, 0);

    /* (d) theta draws. */
    double st[5];
    b.ops->get_stats(&b, 1, 0, st);
    const double a1 = hp[0] + st[0], c1 = hp[1] + st[1];
    const int draws = 20000;
    double sum = 0, sum2 = 0, consistency = 0;
    for (int t = 0; t < draws; t++) {
        b.ops->draw_slot_parameters(&b, &p, 1, &rng);
        double out[5];
        b.ops->get_stats(&b, 1, 0, out);
        sum += out[2];
        sum2 += out[2] * out[2];
        consistency = fmax(consistency, fabs(exp(out[3]) + exp(out[4]) - 1));
    }
    const double mean = sum / draws, se = sqrt((sum2 / draws - mean * mean) / draws);
    const double z = (mean - a1 / (a1 + c1)) / se;
    report("theta draws: mean p of Beta(a + h, b + t) (z)", fabs(z) < 4.5, z);
    report("theta draws: log p and log(1 - p) of one p", consistency < 1e-12, consistency);
    const double z_wrong = (mean - hp[0] / (hp[0] + hp[1])) / se;
    report("theta draws: the prior's mean (a draw without the counts) rejected",
           fabs(z_wrong) > 10 || st[0] + st[1] == 0, z_wrong);

    /* (e) auxiliary draws under Beta(0.01, 1). */
    block_t tiny;
    const double small[2 * F] = {0.01, 1, 0.01, 1, 0.01, 1};
    int ok = make(&tiny, small) == MS_OK && tiny.ops->reserve_auxiliary(&tiny, 4) == MS_OK;
    int finite = 1, below = 0;
    const int aux = 20000;
    for (int t = 0; ok && t < aux; t++) {
        tiny.ops->draw_auxiliary(&tiny, t % 4, &rng);
        tiny.ops->adopt_auxiliary(&tiny, t % 4, 0);
        double out[5];
        tiny.ops->get_stats(&tiny, 0, 0, out);
        finite = finite && isfinite(out[3]) && isfinite(out[4]) && out[3] <= 0;
        below += out[3] < log(1e-100);
    }
    const double share = (double)below / aux;
    const double z_share = (share - 0.1) / sqrt(0.1 * 0.9 / aux);
    report("auxiliary draws under Beta(0.01, 1): every log p finite", ok && finite, 0);
    report("auxiliary draws: P(p < 1e-100) = 0.1 (z)", ok && fabs(z_share) < 4.5, z_share);
    tiny.ops->free(&tiny);

    /* check() catches a corrupted count. */
    double in[5];
    b.ops->get_stats(&b, 0, 0, in);
    in[0] += 1;
    b.ops->set_stats(&b, 0, 0, in);
    report("check() catches a corrupted count", b.ops->check(&b, &p) != NULL, 0);
    b.ops->free(&b);

    /* (g) allocation failures. */
    int refused = 0, tried = 0;
    for (long k = 1; k < 100; k++) {
        block_t c;
        ms_alloc_fail_after(k);
        int status = make(&c, hp);
        if (status == MS_OK) status = c.ops->reserve_auxiliary(&c, 10);
        const long left = ms_alloc_fail_after(0);
        c.ops->free(&c);
        if (left > 0) break;
        tried++;
        refused += status == MS_ERR_NOMEM;
    }
    report("every allocation failing in turn: MS_ERR_NOMEM, freed cleanly",
           tried > 5 && refused == tried, tried);

    printf("\n%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}

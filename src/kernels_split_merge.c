/* Split-merge Metropolis-Hastings moves for the collapsed DP mixture.
 *
 * Each proposal picks a move type (split or merge, probability 1/2 each)
 * and an ordered pair of rows (i, j):
 *   split: i uniform over the n rows, j uniform over the other rows of i's
 *          group S (no move if S is a singleton);
 *   merge: i uniform, j uniform over the rows outside i's group (no move
 *          when there is one group).
 * A split of S proposes groups A (with i) and B (with j) for the other
 * rows of S, taken in a uniformly random order, by one of
 *   SAMS, the sequentially allocated merge-split sampler (Dahl 2003,
 *          section 3): row by row, join A or B with probability
 *          proportional to n_A p(x | A) or n_B p(x | B), given the rows
 *          already allocated;
 *   restricted Gibbs (Jain and Neal 2004, section 3): a random launch
 *          split, `launch_scans` restricted Gibbs scans, and one last scan
 *          that is the proposal;
 *   restricted Gibbs from a sequential launch: the same, with the launch
 *          drawn by SAMS.
 * A merge of S_i and S_j is deterministic; its reverse proposal density is
 * that of the split that recreates S_i, S_j from S_i + S_j, computed with
 * the same kinds of auxiliary draws (order, launch) as a split.
 *
 * Acceptance ratio of a split x -> y (Jain and Neal 2004, eq. 3.4-3.6,
 * with the pair's selection probabilities of this scheme), shown for the
 * CRP (a finite mixture's prior ratio is partition_log_split_ratio(), zero
 * when every label is in use, so that it only splits into empty labels):
 *   log r = log alpha + log Gamma(n_A) + log Gamma(n_B) - log Gamma(n_S)
 *         + L(A) + L(B) - L(S)                          [collapsed marginals]
 *         - log q(y | x)                                [proposal density]
 *         + log(n_S - 1) - log(n - n_A)                 [pair selection]
 * where L is the closed-form log marginal of a group over every feature
 * (group_log_marginal, missing entries left out); a merge uses minus the
 * same terms for the split it undoes. Since q <= 1, a merge whose ratio
 * without the q term is already below the uniform draw is rejected
 * without building its reverse split (exact: log r = bound + log q). */
#include <math.h>
#include <stdlib.h>
#include "kernels.h"
#include "alloc.h"
#include "log_gamma.h"
#include "state_group.h"
#include "status.h"

/* Deliberately wrong ratios, for the tests that show the enumeration
 * tests reject them (kernel_t.test_drop_proposal). */
enum { TEST_EXACT = 0, TEST_DROP_PROPOSAL = 1, TEST_DROP_PAIR = 2 };

typedef struct {
    state_t *st;
    const data_t *data;
    const kernel_t *kernel;
    rng_t *rng;
    const partition_prior_t *prior;
    const double *log_int;  /* log(0), ..., log(n) */
    int *rows;              /* n: rows of the groups in play */
    char *side;             /* n: 0 = with i, 1 = with j */
    char *launch;           /* n: restricted Gibbs, the current side */
    int *launch_rows;       /* n: a random launch's rows, side by side */
} split_merge_t;

/* log(exp(x) + exp(y)). */
static double log_add(double x, double y) {
    const double hi = x > y ? x : y, lo = x > y ? y : x;
    return hi + log1p(exp(lo - hi));
}

/* Fisher-Yates on the first m rows with their sides. */
static void shuffle_rows(split_merge_t *sm, int m) {
    for (int t = m - 1; t > 0; t--) {
        const int u = (int)rng_below(sm->rng, (uint32_t)(t + 1));
        const int row = sm->rows[t];
        const char side = sm->side[t];
        sm->rows[t] = sm->rows[u];
        sm->side[t] = sm->side[u];
        sm->rows[u] = row;
        sm->side[u] = side;
    }
}

/* log probabilities of row joining the slot at `to` (0 = slot_i, 1 =
 * slot_j), for a row counted in neither. */
static double join_log_prob(const split_merge_t *sm, int row, int slot_i,
                            int slot_j, int *to, int forced) {
    const state_t *st = sm->st;
    const double w_i = sm->log_int[st->size[slot_i]] +
                       state_score_row_slot(st, sm->data, row, slot_i);
    const double w_j = sm->log_int[st->size[slot_j]] +
                       state_score_row_slot(st, sm->data, row, slot_j);
    const double norm = log_add(w_i, w_j);
    if (!forced) *to = rng_unif(sm->rng) >= exp(w_i - norm);
    return (*to ? w_j : w_i) - norm;
}

/* SAMS (Dahl 2003): allocates rows[0..m) one by one into slot_i and
 * slot_j, which hold i and j, writing each row's side to sides[]. With
 * `forced`, each row goes to the side sides[] already holds and the result
 * is the probability that SAMS would have done so; else the sides are
 * drawn. Returns log q. */
static double allocate_sequentially(split_merge_t *sm, int m, int slot_i,
                                    int slot_j, char *sides, int forced) {
    double log_q = 0.0;
    for (int t = 0; t < m; t++) {
        int to = sides[t];
        log_q += join_log_prob(sm, sm->rows[t], slot_i, slot_j, &to, forced);
        sides[t] = (char)to;
        state_slot_move_row(sm->st, sm->data, sm->rows[t], to ? slot_j : slot_i,
                            +1);
    }
    return log_q;
}

/* One restricted Gibbs scan over rows[0..m) between slot_i and slot_j
 * (Jain and Neal 2004): each row, left out of its current side, goes to
 * slot_i or slot_j with probability proportional to n p(x | slot). With
 * `target`, row t is sent to target[t] and the scan's probability of
 * doing so is returned; else sides are drawn. */
static double restricted_scan(split_merge_t *sm, int m, int slot_i,
                              int slot_j, const char *target) {
    state_t *st = sm->st;
    double log_q = 0.0;
    for (int t = 0; t < m; t++) {
        const int row = sm->rows[t], now = sm->launch[t];
        const int own = now ? slot_j : slot_i, other = now ? slot_i : slot_j;
        const double w_own = sm->log_int[st->size[own] - 1] +
                             state_score_row_slot_loo(st, sm->data, row, own);
        const double w_other = sm->log_int[st->size[other]] +
                               state_score_row_slot(st, sm->data, row, other);
        const double norm = log_add(w_own, w_other);
        const int moves = target ? target[t] != now
                                 : rng_unif(sm->rng) >= exp(w_own - norm);
        log_q += (moves ? w_other : w_own) - norm;
        if (moves) {
            state_slot_move_row(st, sm->data, row, own, -1);
            state_slot_move_row(st, sm->data, row, other, +1);
            sm->launch[t] = (char)!now;
        }
    }
    return log_q;
}

/* Jain and Neal (2004): a launch split, launch_scans free scans, then the
 * proposal scan, drawn (split; side[] receives it) or forced to side[]
 * (merge). Returns log q of the last scan. The launch is random (Jain and
 * Neal) or, with `sequential_launch`, drawn by sequential allocation
 * (Dahl 2003), which lands nearer a good split for the same one move per
 * row. Either way it depends only on the rows of both groups together and
 * on i and j, so it is the same auxiliary draw in both directions. */
static double allocate_restricted_gibbs(split_merge_t *sm, int m, int slot_i,
                                        int slot_j, int forced,
                                        int sequential_launch) {
    if (sequential_launch) {
        allocate_sequentially(sm, m, slot_i, slot_j, sm->launch, 0);
    } else {
        /* The sides are drawn first and each slot's rows counted in at
         * once, in the order of rows[] (state_slot_add_rows: the bits of
         * moving them one by one, for a fraction of the logs). */
        int n_i = 0;
        for (int t = 0; t < m; t++) {
            sm->launch[t] = (char)rng_below(sm->rng, 2);
            if (!sm->launch[t]) sm->launch_rows[n_i++] = sm->rows[t];
        }
        for (int t = 0, at = n_i; t < m; t++)
            if (sm->launch[t]) sm->launch_rows[at++] = sm->rows[t];
        state_slot_add_rows(sm->st, sm->data, sm->launch_rows, n_i, slot_i);
        state_slot_add_rows(sm->st, sm->data, sm->launch_rows + n_i, m - n_i,
                            slot_j);
    }
    for (int scan = 0; scan < sm->kernel->launch_scans; scan++)
        restricted_scan(sm, m, slot_i, slot_j, NULL);
    const double log_q = restricted_scan(sm, m, slot_i, slot_j,
                                         forced ? sm->side : NULL);
    if (!forced)
        for (int t = 0; t < m; t++) sm->side[t] = sm->launch[t];
    return log_q;
}

/* Builds the proposed split of rows[0..m) plus i and j in two work slots;
 * returns log q through *log_q. */
static int build_split(split_merge_t *sm, int i, int j, int m, int forced,
                       int *slot_i, int *slot_j, double *log_q) {
    int status = state_claim_work_slot(sm->st, slot_i);
    if (status) return status;
    status = state_claim_work_slot(sm->st, slot_j);
    if (status) {
        state_release_slot(sm->st, *slot_i);
        return status;
    }
    state_slot_move_row(sm->st, sm->data, i, *slot_i, +1);
    state_slot_move_row(sm->st, sm->data, j, *slot_j, +1);
    const int method = sm->kernel->method;
    *log_q = method == SPLIT_MERGE_SAMS
                 ? allocate_sequentially(sm, m, *slot_i, *slot_j, sm->side, forced)
                 : allocate_restricted_gibbs(
                       sm, m, *slot_i, *slot_j, forced,
                       method == SPLIT_MERGE_SEQUENTIAL_LAUNCH);
    return MS_OK;
}

/* log of the prior ratio of a split of n_i + n_j rows into n_i, n_j, the
 * split partition having `groups_after` groups (partition_prior.h; for the
 * CRP log alpha + log Gamma(n_i) + log Gamma(n_j) - log Gamma(n_i + n_j)). */
static double log_prior_split(const split_merge_t *sm, int n_i, int n_j,
                              int groups_after) {
    return partition_log_split_ratio(sm->prior, sm->st->alpha, n_i, n_j,
                                     groups_after);
}

static double slot_log_marginal(const split_merge_t *sm, int k) {
    return state_group_log_marginal(sm->st, k);
}

static int propose_split(split_merge_t *sm, int i,
                         split_merge_counts_t *counts) {
    state_t *st = sm->st;
    const int from = st->group_of_row[i], n_from = st->size[from];
    if (n_from < 2) return MS_OK;
    /* A finite mixture with every label in use has no empty label to
     * split into (prior ratio 0): rejected without building it. */
    const int groups_after = st->n_active + 1;
    if (sm->prior->groups > 0 && groups_after > sm->prior->groups) {
        counts->split_proposed++;
        return MS_OK;
    }
    int m = 0;
    for (int r = 0; r < st->n; r++)
        if (st->group_of_row[r] == from && r != i) sm->rows[m++] = r;
    const int pick = (int)rng_below(sm->rng, (uint32_t)m);
    const int j = sm->rows[pick];
    sm->rows[pick] = sm->rows[--m];
    shuffle_rows(sm, m);
    counts->split_proposed++;

    int slot_i, slot_j;
    double log_q;
    int status = build_split(sm, i, j, m, 0, &slot_i, &slot_j, &log_q);
    if (status) return status;
    const int n_i = st->size[slot_i], n_j = st->size[slot_j];
    const int wrong = sm->kernel->test_drop_proposal;
    double log_r = log_prior_split(sm, n_i, n_j, groups_after) +
                   slot_log_marginal(sm, slot_i) +
                   slot_log_marginal(sm, slot_j) - slot_log_marginal(sm, from);
    if (wrong != TEST_DROP_PAIR)
        log_r += sm->log_int[n_from - 1] - sm->log_int[st->n - n_i];
    if (wrong != TEST_DROP_PROPOSAL) log_r -= log_q;
    if (log(rng_unif(sm->rng)) < log_r) {
        sm->rows[m] = i;
        sm->side[m] = 0;
        sm->rows[m + 1] = j;
        sm->side[m + 1] = 1;
        state_commit_split(st, from, slot_i, slot_j, sm->rows, sm->side, m + 2);
        counts->split_accepted++;
    } else {
        state_release_slot(st, slot_i);
        state_release_slot(st, slot_j);
    }
    return MS_OK;
}

static int propose_merge(split_merge_t *sm, int i,
                         split_merge_counts_t *counts) {
    state_t *st = sm->st;
    if (st->n_active < 2) return MS_OK;
    const int group_i = st->group_of_row[i];
    int j;
    do j = (int)rng_below(sm->rng, (uint32_t)st->n);
    while (st->group_of_row[j] == group_i);
    const int group_j = st->group_of_row[j];
    const int n_i = st->size[group_i], n_j = st->size[group_j];
    counts->merge_proposed++;

    /* log r without the reverse proposal density: an upper bound. */
    const int wrong = sm->kernel->test_drop_proposal;
    double bound =
        -log_prior_split(sm, n_i, n_j, st->n_active) +
        state_merged_log_marginal(st, group_i, group_j) -
        slot_log_marginal(sm, group_i) - slot_log_marginal(sm, group_j);
    if (wrong != TEST_DROP_PAIR)
        bound += sm->log_int[st->n - n_i] - sm->log_int[n_i + n_j - 1];
    const double log_u = log(rng_unif(sm->rng));
    if (log_u >= bound) return MS_OK;
    if (wrong != TEST_DROP_PROPOSAL) {
        int m = 0;
        for (int r = 0; r < st->n; r++) {
            const int g = st->group_of_row[r];
            if ((g == group_i || g == group_j) && r != i && r != j) {
                sm->rows[m] = r;
                sm->side[m++] = (char)(g == group_j);
            }
        }
        shuffle_rows(sm, m);
        int slot_i, slot_j;
        double log_q;
        int status = build_split(sm, i, j, m, 1, &slot_i, &slot_j, &log_q);
        if (status) return status;
        state_release_slot(st, slot_i);
        state_release_slot(st, slot_j);
        if (!(log_u < bound + log_q)) return MS_OK;
    }
    /* Accepted: the smaller group's rows move into the larger one. */
    const int into = n_i >= n_j ? group_i : group_j;
    const int absorbed = into == group_i ? group_j : group_i;
    int m = 0;
    for (int r = 0; r < st->n; r++)
        if (st->group_of_row[r] == absorbed) sm->rows[m++] = r;
    state_merge_groups(st, sm->data, into, absorbed, sm->rows, m);
    counts->merge_accepted++;
    return MS_OK;
}

int kernel_split_merge(state_t *st, const data_t *data, const kernel_t *kernel,
                       rng_t *rng, workspace_t *ws,
                       const partition_prior_t *prior,
                       split_merge_counts_t *counts) {
    /* A merge proposal needs the union's log marginal: a block kind
     * without merged_log_marginal cannot take part (yet). */
    for (int b = 0; b < st->n_blocks; b++)
        if (st->blocks[b].ops->merged_log_marginal == NULL)
            return MS_ERR_UNSUPPORTED;
    const size_t n = (size_t)(st->n > 0 ? st->n : 1);
    split_merge_t sm = {st, data, kernel, rng, prior, ws->log_int,
                        ms_malloc(n * sizeof(int)), ms_malloc(n), ms_malloc(n),
                        ms_malloc(n * sizeof(int))};
    int status = sm.rows && sm.side && sm.launch && sm.launch_rows
                     ? MS_OK : MS_ERR_NOMEM;
    if (status == MS_OK && st->n >= 2) {
        for (int p = 0; p < kernel->n_proposals && status == MS_OK; p++) {
            const int split = rng_unif(rng) < 0.5;
            const int i = (int)rng_below(rng, (uint32_t)st->n);
            status = split ? propose_split(&sm, i, counts)
                           : propose_merge(&sm, i, counts);
        }
    }
    free(sm.rows);
    free(sm.side);
    free(sm.launch);
    free(sm.launch_rows);
    return status;
}

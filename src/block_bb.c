/* The beta-Bernoulli block's memory, tables, hyperparameters and
 * operations table (block_bb.h). */
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "block_bb.h"
#include "block_util.h"
#include "log_gamma.h"
#include "log_sum.h"
#include "score.h"
#include "status.h"

static int grow_array(void **ptr, size_t bytes) {
    void *p = ms_realloc(*ptr, bytes);
    if (p == NULL) return MS_ERR_NOMEM;
    *ptr = p;
    return MS_OK;
}

/* Grows every per-slot array to new_capacity (a multiple of SLOT_BLOCK),
 * zeroing slots from old_capacity on. On failure the arrays that did grow
 * stay valid and owned. The delta tiles need no re-layout: new blocks are
 * appended. */
static int bb_grow(block_t *blk, int old_capacity, int new_capacity) {
    bb_block_t *bb = bb_of(blk);
    const size_t D = (size_t)bb->D, old = (size_t)old_capacity,
                 cap = (size_t)new_capacity;
    if (grow_array((void **)&bb->heads, cap * D * sizeof(int)) ||
        grow_array((void **)&bb->tails, cap * D * sizeof(int)) ||
        grow_array((void **)&bb->missing, cap * sizeof(int)) ||
        grow_array((void **)&bb->base, cap * sizeof(double)) ||
        grow_array((void **)&bb->base_loo, cap * sizeof(double)))
        return MS_ERR_NOMEM;
    double **tables[] = {&bb->log_ah, &bb->log_ahm, &bb->log_bt,
                         &bb->log_btm, &bb->log_sm, &bb->log_smm,
                         &bb->delta_loo, &bb->delta_blocks};
    for (size_t j = 0; j < sizeof(tables) / sizeof(tables[0]); j++) {
        if (grow_array((void **)tables[j], cap * D * sizeof(double)))
            return MS_ERR_NOMEM;
        memset(*tables[j] + old * D, 0, (cap - old) * D * sizeof(double));
    }
    memset(bb->heads + old * D, 0, (cap - old) * D * sizeof(int));
    memset(bb->tails + old * D, 0, (cap - old) * D * sizeof(int));
    for (size_t k = old; k < cap; k++) {
        bb->missing[k] = 0;
        bb->base[k] = bb->base_loo[k] = 0.0;
    }
    bb->capacity = (int)cap;
    return MS_OK;
}

static void bb_free(block_t *blk) {
    bb_block_t *bb = bb_of(blk);
    if (bb != NULL) {
        void *arrays[] = {bb->a, bb->b, bb->s, bb->log_a, bb->log_b,
                          bb->log_beta_ab, bb->new_logs, bb->log_a_table,
                          bb->log_b_table, bb->log_denominator, bb->missing,
                          bb->heads, bb->tails, bb->log_ah, bb->log_ahm,
                          bb->log_bt, bb->log_btm, bb->log_sm, bb->log_smm,
                          bb->delta_loo, bb->delta_blocks, bb->base,
                          bb->base_loo, bb->gathered_heads,
                          bb->gathered_tails};
        for (size_t j = 0; j < sizeof(arrays) / sizeof(arrays[0]); j++)
            free(arrays[j]);
        for (int i = 0; i < MAX_SHARED_VALUES; i++) free(bb->shared_logs[i]);
        free(bb);
    }
    blk->impl = NULL;
    block_free_common(blk);
}

void bb_set_feature_hp(bb_block_t *bb, int d, double a, double b) {
    bb->a[d] = a;
    bb->b[d] = b;
    bb->s[d] = a + b;
    bb->log_beta_ab[d] = log_beta(a, b);
}

/* b->hp mirrors (a, b) feature by feature; the tables read a, b, s. */
static void bb_set_hp(block_t *blk, int j, const double *hp) {
    blk->hp[2 * j] = hp[0];
    blk->hp[2 * j + 1] = hp[1];
    bb_set_feature_hp(bb_of(blk), j, hp[0], hp[1]);
}

/* block_init (block.c) has copied the feature ids, hp_offset and hp. */
int block_bb_setup(block_t *blk, int capacity) {
    const data_t *bdata = blk->data.bb;
    const int n = blk->data.n, D = blk->n_features;
    const size_t D1 = (size_t)(D > 0 ? D : 1);
    bb_block_t *bb = ms_calloc(1, sizeof(bb_block_t));
    blk->impl = bb;
    if (!bb) return MS_ERR_NOMEM;
    bb->data = bdata;
    bb->n = n;
    bb->D = D;
    bb->a = ms_malloc(D1 * sizeof(double));
    bb->b = ms_malloc(D1 * sizeof(double));
    bb->s = ms_malloc(D1 * sizeof(double));
    bb->log_a = ms_malloc(D1 * sizeof(double));
    bb->log_b = ms_malloc(D1 * sizeof(double));
    bb->log_beta_ab = ms_malloc(D1 * sizeof(double));
    bb->new_logs = ms_malloc(D1 * sizeof(double));
    bb->log_a_table = ms_malloc(D1 * sizeof(double *));
    bb->log_b_table = ms_malloc(D1 * sizeof(double *));
    bb->log_denominator = ms_malloc((size_t)(n + 1) * sizeof(double));
    bb->gathered_heads = ms_malloc((size_t)(n + 1) * sizeof(int));
    bb->gathered_tails = ms_malloc((size_t)(n + 1) * sizeof(int));
    if (!bb->a || !bb->b || !bb->s || !bb->log_a || !bb->log_b ||
        !bb->log_beta_ab || !bb->new_logs || !bb->log_a_table ||
        !bb->log_b_table || !bb->log_denominator || !bb->gathered_heads ||
        !bb->gathered_tails)
        return MS_ERR_NOMEM;
    for (int d = 0; d < D; d++)
        bb_set_feature_hp(bb, d, blk->hp[blk->hp_offset[d]],
                          blk->hp[blk->hp_offset[d] + 1]);
    for (int N = 0; N <= n; N++) bb->log_denominator[N] = NAN;
    return bb_grow(blk, 0, capacity);
}

/* ---- tables ---- */

/* T(N) = sum_d log(s_d + N), the log denominator of a clean slot of size N
 * (see block_bb.h), memoised until the hyperparameters change. */
double bb_log_denominator(bb_block_t *bb, int N) {
    /* A block rebuilt from saved counts has no rows (n = 0) to size the
     * memo by: its groups' sizes are taken directly. */
    if (N > bb->n) return sum_log_shifted(bb->s, bb->D, (double)N);
    double *memo = &bb->log_denominator[N];
    if (isnan(*memo)) *memo = sum_log_shifted(bb->s, bb->D, (double)N);
    return *memo;
}

void bb_slot_set_base(bb_block_t *bb, const partition_view_t *p, int k,
                      double sum_bt, double sum_btm) {
    if (bb->missing[k] == 0) {
        const int N = p->size[k];
        bb->base[k] = sum_bt - bb_log_denominator(bb, N);
        bb->base_loo[k] = N > 0 ? sum_btm - bb_log_denominator(bb, N - 1) : 0.0;
        return;
    }
    const size_t off = (size_t)k * bb->D;
    double sum_sm = 0.0, sum_smm = 0.0;
    for (int d = 0; d < bb->D; d++) {
        sum_sm += bb->log_sm[off + d];
        sum_smm += bb->log_smm[off + d];
    }
    bb->base[k] = sum_bt - sum_sm;
    bb->base_loo[k] = sum_btm - sum_smm;
}

/* Fills the per-feature denominator tables of slot k from its counts: done
 * when the slot takes its first row with missing entries. */
void bb_slot_build_denominators(bb_block_t *bb, int k) {
    const size_t off = (size_t)k * bb->D;
    for (int d = 0; d < bb->D; d++) {
        const int m = bb->heads[off + d] + bb->tails[off + d];
        bb->log_sm[off + d] = log_shift(bb->s[d], m);
        bb->log_smm[off + d] = log_shift(bb->s[d], m - 1);
    }
}

/* Recomputes the tables of one slot from its counts. */
void bb_slot_rebuild(bb_block_t *bb, const partition_view_t *p, int k) {
    const int D = bb->D;
    const size_t off = (size_t)k * D;
    double *delta = bb_slot_delta(bb, k);
    double sum_bt = 0.0, sum_btm = 0.0;
    for (int d = 0; d < D; d++) {
        const int h = bb->heads[off + d], t = bb->tails[off + d];
        const double ah = log_shift(bb->a[d], h), ahm = log_shift(bb->a[d], h - 1);
        const double bt = log_shift(bb->b[d], t), btm = log_shift(bb->b[d], t - 1);
        bb->log_ah[off + d] = ah;
        bb->log_ahm[off + d] = ahm;
        bb->log_bt[off + d] = bt;
        bb->log_btm[off + d] = btm;
        delta[(size_t)d * SLOT_BLOCK] = ah - bt;
        bb->delta_loo[off + d] = ahm - btm;
        sum_bt += bt;
        sum_btm += btm;
    }
    if (bb->missing[k] > 0) bb_slot_build_denominators(bb, k);
    bb_slot_set_base(bb, p, k, sum_bt, sum_btm);
}

/* Gives slot k the tables of an empty group by copying log a and log b
 * rather than taking logs: a new ghost is made whenever a row opens a
 * group. */
void bb_slot_make_empty(bb_block_t *bb, const partition_view_t *p, int k) {
    const int D = bb->D;
    const size_t off = (size_t)k * D;
    double *delta = bb_slot_delta(bb, k);
    memcpy(bb->log_ah + off, bb->log_a, (size_t)D * sizeof(double));
    memcpy(bb->log_bt + off, bb->log_b, (size_t)D * sizeof(double));
    memset(bb->log_ahm + off, 0, (size_t)D * sizeof(double));
    memset(bb->log_btm + off, 0, (size_t)D * sizeof(double));
    memset(bb->delta_loo + off, 0, (size_t)D * sizeof(double));
    double sum_b = 0.0;
    for (int d = 0; d < D; d++) {
        delta[(size_t)d * SLOT_BLOCK] = bb->log_a[d] - bb->log_b[d];
        sum_b += bb->log_b[d];
    }
    bb_slot_set_base(bb, p, k, sum_b, 0.0);
}

/* A free slot's counts are zero already when its last row left; zeroing
 * them again costs 2 D stores per new group, nothing next to a row move. */
static void bb_clear_slot(block_t *blk, const partition_view_t *p, int k) {
    bb_block_t *bb = bb_of(blk);
    const size_t D = (size_t)bb->D;
    memset(bb->heads + (size_t)k * D, 0, D * sizeof(int));
    memset(bb->tails + (size_t)k * D, 0, D * sizeof(int));
    bb->missing[k] = 0;
    bb_slot_make_empty(bb, p, k);
}

static void bb_copy_slot(block_t *blk, const partition_view_t *p, int from,
                         int to) {
    (void)p;
    bb_block_t *bb = bb_of(blk);
    const size_t D = (size_t)bb->D, src = (size_t)from * D,
                 dst = (size_t)to * D;
    memcpy(bb->heads + dst, bb->heads + src, D * sizeof(int));
    memcpy(bb->tails + dst, bb->tails + src, D * sizeof(int));
    double *tables[] = {bb->log_ah, bb->log_ahm, bb->log_bt, bb->log_btm,
                        bb->log_sm, bb->log_smm, bb->delta_loo};
    for (size_t j = 0; j < sizeof(tables) / sizeof(tables[0]); j++)
        memcpy(tables[j] + dst, tables[j] + src, D * sizeof(double));
    const double *delta_from = bb_slot_delta(bb, from);
    double *delta_to = bb_slot_delta(bb, to);
    for (size_t d = 0; d < D; d++)
        delta_to[d * SLOT_BLOCK] = delta_from[d * SLOT_BLOCK];
    bb->missing[to] = bb->missing[from];
    bb->base[to] = bb->base[from];
    bb->base_loo[to] = bb->base_loo[from];
}

/* When at most MAX_SHARED_VALUES distinct numbers occur among the a_d and
 * b_d (the default start a = b = 1 until the first hyperparameter update,
 * fixed hyperparameters, a grid kernel), tabulates log(v + c) for every
 * count c = 0..n of each, by the expression of log_shift, so that moving a
 * row costs table look-ups instead of logs and gives the same bits.
 * Slice-sampled hyperparameters are all distinct and leave the tables off
 * (n_shared = 0); so does a failed allocation, since they only save time. */
static void share_log_tables(bb_block_t *bb) {
    double values[MAX_SHARED_VALUES];
    int n_values = 0;
    bb->n_shared = 0;
    for (int j = 0; j < 2 * bb->D; j++) {
        const double v = j < bb->D ? bb->a[j] : bb->b[j - bb->D];
        int i = 0;
        while (i < n_values && values[i] != v) i++;
        if (i == n_values) {
            if (n_values == MAX_SHARED_VALUES) return;
            values[n_values++] = v;
        }
    }
    for (int i = 0; i < n_values; i++) {
        if (bb->shared_logs[i] == NULL)
            bb->shared_logs[i] = ms_malloc((size_t)(bb->n + 1) * sizeof(double));
        if (bb->shared_logs[i] == NULL) return;
        for (int c = 0; c <= bb->n; c++)
            bb->shared_logs[i][c] = log_shift(values[i], c);
    }
    for (int d = 0; d < bb->D; d++) {
        for (int i = 0; i < n_values; i++) {
            if (bb->a[d] == values[i]) bb->log_a_table[d] = bb->shared_logs[i];
            if (bb->b[d] == values[i]) bb->log_b_table[d] = bb->shared_logs[i];
        }
    }
    bb->n_shared = n_values;
}

void bb_rebuild_begin(bb_block_t *bb) {
    for (int N = 0; N <= bb->n; N++) bb->log_denominator[N] = NAN;
    share_log_tables(bb);
    for (int d = 0; d < bb->D; d++) {
        bb->log_a[d] = log_shift(bb->a[d], 0);
        bb->log_b[d] = log_shift(bb->b[d], 0);
        bb->log_beta_ab[d] = log_beta(bb->a[d], bb->b[d]);
    }
}

void bb_rebuild_tables(bb_block_t *bb, const partition_view_t *p) {
    bb_rebuild_begin(bb);
    /* The slots in use between iterations: the active ones and the ghost
     * (work slots exist only inside a split-merge move). */
    for (int j = 0; j < p->n_active; j++) bb_slot_rebuild(bb, p, p->active[j]);
    if (p->ghost >= 0) bb_slot_rebuild(bb, p, p->ghost);
}

static int bb_rebuild(block_t *blk, const partition_view_t *p) {
    bb_rebuild_tables(bb_of(blk), p);
    return MS_OK;
}

void bb_gather_feature_counts(const bb_block_t *bb, const partition_view_t *p,
                              int d, int *heads, int *tails) {
    for (int j = 0; j < p->n_active; j++) {
        const size_t at = (size_t)p->active[j] * bb->D + d;
        heads[j] = bb->heads[at];
        tails[j] = bb->tails[at];
    }
}

/* Counts every row into its slot, as today's state_set_assignment did. */
static void bb_recount(block_t *blk, const partition_view_t *p) {
    bb_block_t *bb = bb_of(blk);
    const int D = bb->D;
    const data_t *data = bb->data;
    memset(bb->heads, 0, (size_t)bb->capacity * D * sizeof(int));
    memset(bb->tails, 0, (size_t)bb->capacity * D * sizeof(int));
    memset(bb->missing, 0, (size_t)bb->capacity * sizeof(int));
    for (int i = 0; i < p->n; i++) {
        const int k = p->group_of_row[i];
        const uint8_t *row = data->codes + (size_t)i * D;
        int *h = bb->heads + (size_t)k * D, *t = bb->tails + (size_t)k * D;
        for (int d = 0; d < D; d++) {
            h[d] += row[d] == CODE_ON;
            t[d] += row[d] == CODE_OFF;
        }
        bb->missing[k] += row_missing(data, i);
    }
}

/* ---- the generic hyperparameter interface (block.h) ---- */

static void bb_gather(block_t *blk, const partition_view_t *p, int j) {
    bb_block_t *bb = bb_of(blk);
    bb_gather_feature_counts(bb, p, j, bb->gathered_heads, bb->gathered_tails);
    bb->n_gathered = p->n_active;
}

/* sum_k log B(a + h_k, b + t_k) - log B(a, b) (score.h). */
static double bb_gathered_log_marginal(const block_t *blk, int j,
                                       const double *hp) {
    (void)j;
    const bb_block_t *bb = bb_of(blk);
    return score_feature(bb->gathered_heads, bb->gathered_tails,
                         bb->n_gathered, hp[0], hp[1]);
}

/* The bb kernels' default prior, p(a, b) ~ (a + b)^(-5/2) on
 * [0.01, 1000]^2 (kernels.h, prior_noninformative_beta()), as the
 * conditional of coordinate c given the feature's other coordinate. */
#define BB_PRIOR_LOWER 0.01
#define BB_PRIOR_UPPER 1000.0

static double bb_hp_log_prior(const block_t *blk, int j, int c, double value) {
    if (!(value > BB_PRIOR_LOWER && value < BB_PRIOR_UPPER)) return -INFINITY;
    const double other = blk->hp[2 * j + (1 - c)];
    return -2.5 * log(value + other);
}

static void bb_hp_support(const block_t *blk, int j, int c, double *lower,
                          double *upper) {
    (void)blk;
    (void)j;
    (void)c;
    *lower = BB_PRIOR_LOWER;
    *upper = BB_PRIOR_UPPER;
}

/* Statistics of a feature in a slot: heads, tails (R names them). */
static int bb_n_stats(const block_t *blk, int j) {
    (void)blk;
    (void)j;
    return 2;
}

static void bb_get_stats(const block_t *blk, int k, int j, double *out) {
    const bb_block_t *bb = bb_of(blk);
    const size_t at = (size_t)k * bb->D + j;
    out[0] = (double)bb->heads[at];
    out[1] = (double)bb->tails[at];
}

const block_ops_t block_bb_ops = {
    .kind = BLOCK_BETA_BERNOULLI,
    .name = "bb",
    .grow = bb_grow,
    .clear_slot = bb_clear_slot,
    .add_row = bb_add_row,
    .remove_row = bb_remove_row,
    .score_all = bb_score_all,
    .score_slot = bb_score_slot,
    .score_slot_loo = bb_score_slot_loo,
    .group_log_marginal = bb_group_log_marginal,
    .rebuild = bb_rebuild,
    .set_hp = bb_set_hp,
    .gather = bb_gather,
    .gathered_log_marginal = bb_gathered_log_marginal,
    .hp_log_prior = bb_hp_log_prior,
    .hp_support = bb_hp_support,
    .n_stats = bb_n_stats,
    .get_stats = bb_get_stats,
    .check = bb_check,
    .free = bb_free,
    .copy_slot = bb_copy_slot,
    .merged_log_marginal = bb_merged_log_marginal,
    .recount = bb_recount,
    .cell_size = bb_cell_size,
    .log_predictive = bb_log_predictive,
    .mean_size = bb_cell_size,
    .predictive_mean = bb_predictive_mean,
    .sample_predictive = bb_sample_predictive,
    .hp_scale = bb_hp_scale,
    .set_stats = bb_set_stats,
    .add_rows = bb_add_rows,
};

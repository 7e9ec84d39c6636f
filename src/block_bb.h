/* The beta-Bernoulli feature block (block.h): today's binary tables, moved
 * out of the state unchanged in what they compute.
 *
 * Caches, per slot k and feature d, with h = heads, t = tails, m = h + t,
 * s = a + b:
 *   log_ah  = log(a + h)      log_ahm = log(a + h - 1)   (0 when h = 0)
 *   log_bt  = log(b + t)      log_btm = log(b + t - 1)   (0 when t = 0)
 * The "-1" versions give, without touching the tables, a row's score
 * against its own group with the row left out: the common case of a row
 * that stays where it is costs no log at all. When a count moves by one,
 * the old value of one table is the new value of its neighbour, so each
 * observed feature of a moved row costs one new log.
 *   delta     = log_ah - log_bt        delta_loo = log_ahm - log_btm
 *   base[k]     = sum_d (log_bt - log(s + m))
 *   base_loo[k] = sum_d (log_btm - log(s + m - 1))
 * so that log p(row | group k) = base[k] + sum over on-features of delta
 * minus the (log_bt - log(s + m)) terms of the row's missing features.
 *
 * Denominators: in a slot whose rows have no missing entry ("clean"),
 * m = size for every feature, so sum_d log(s + m) is T(size) with
 * T(N) = sum_d log(s_d + N), memoised per hyperparameter setting: no
 * per-feature denominator log. Slots that hold missing entries keep the
 * per-feature tables log_sm = log(s + m) and log_smm = log(s + m - 1)
 * (0 when m = 0), exactly as the counts say.
 *
 * Layout: everything is slot-major (slot k's D entries contiguous), so that
 * moving a row walks contiguous memory, except delta, which is scoring's
 * input: per block of SLOT_BLOCK slots, a D x SLOT_BLOCK tile. Scoring a
 * row against every slot then adds, per on-feature, one cache line of
 * SLOT_BLOCK doubles per block (a vectorised loop), and updating one
 * slot's delta walks consecutive lines.
 *
 * Split by concern: block_bb.c (memory, tables, the operations table),
 * block_bb_update.c (moving a row), block_bb_score.c (scores and group
 * marginals), block_bb_check.c (the audit). The bb hyperparameter kernels
 * (kernels_feature_hp.c), the log joint (chain.c) and the glue read this
 * struct directly: they are beta-Bernoulli code. */
#ifndef MICROSCOPES_BLOCK_BB_H
#define MICROSCOPES_BLOCK_BB_H

#include <math.h>
#include <stddef.h>
#include "block.h"
#include "data.h"
#include "state.h"  /* SLOT_BLOCK */

/* Distinct hyperparameter values that get shared log tables. */
#define MAX_SHARED_VALUES 4

typedef struct {
    const data_t *data;     /* the block's columns (all bb features) */
    int n, D;
    int capacity;           /* slots the per-slot arrays hold */
    double *a, *b, *s;      /* per-feature beta hyperparameters; s = a + b */
    double *log_a, *log_b;  /* log a, log b: the tables of an empty slot */
    double *log_beta_ab;    /* log B(a, b), for group marginals */
    int *missing;           /* missing entries among the slot's rows */
    int *heads, *tails;     /* capacity x D */
    double *log_ah, *log_ahm, *log_bt, *log_btm;    /* capacity x D */
    double *log_sm, *log_smm;   /* capacity x D; kept where missing > 0 */
    double *delta_loo;          /* capacity x D */
    double *delta_blocks;       /* per block of slots, D x SLOT_BLOCK */
    double *base, *base_loo;    /* capacity */

    double *log_denominator;    /* n + 1: T(N), or NAN until computed */
    double *new_logs;           /* D: scratch of the row-moving passes */
    /* When few distinct hyperparameter values occur: log(v + c) for
     * c = 0..n, and each feature's table for a and for b. */
    int n_shared;               /* tables in use, or 0 */
    double *shared_logs[MAX_SHARED_VALUES];
    const double **log_a_table, **log_b_table;  /* D */
    int *gathered_heads, *gathered_tails;   /* n + 1: `gather` scratch */
    int n_gathered;
} bb_block_t;

/* The predictive ops and set_stats (block_bb_predictive.c). */
int bb_cell_size(const block_t *blk, int j);
double bb_log_predictive(const block_t *blk, int k, int j, const double *cell);
void bb_predictive_mean(const block_t *blk, int k, int j, double *out);
void bb_sample_predictive(const block_t *blk, int k, int j, rng_t *rng,
                          double *out);
double bb_hp_scale(const block_t *blk, int j, int c);
void bb_set_stats(block_t *blk, int k, int j, const double *in);

extern const block_ops_t block_bb_ops;

/* Builds the bb block's tables over the data_t at blk->data.bb, once
 * block_init has copied feature ids and hyperparameters (block.c). */
int block_bb_setup(block_t *blk, int capacity);

static inline bb_block_t *bb_of(const block_t *blk) {
    return (bb_block_t *)blk->impl;
}

/* log(x + count), or 0 for a count below zero: the "-1" tables hold 0 where
 * the count they stand for does not exist. Every table entry is computed
 * by this one expression (or read from a table it filled), so that
 * incremental updates and rebuilds from scratch agree to the last bit. */
static inline double log_shift(double x, int count) {
    return count >= 0 ? log(x + (double)count) : 0.0;
}

/* Slot k's delta for feature 0; feature d is d * SLOT_BLOCK doubles on. */
static inline double *bb_slot_delta(const bb_block_t *bb, int k) {
    return bb->delta_blocks + (size_t)(k / SLOT_BLOCK) * bb->D * SLOT_BLOCK +
           k % SLOT_BLOCK;
}

static inline int row_missing(const data_t *data, int row) {
    return data->missing_start[row + 1] - data->missing_start[row];
}

/* Sets the hyperparameters of feature d (tables are stale until rebuild). */
void bb_set_feature_hp(bb_block_t *bb, int d, double a, double b);

/* Recomputes every table of the slots in use from the counts:
 * bb_rebuild_begin (what does not depend on a slot: the per-feature logs,
 * the shared tables, and the memo of denominators emptied), then
 * bb_slot_rebuild of each active slot and the ghost. */
void bb_rebuild_tables(bb_block_t *bb, const partition_view_t *p);
void bb_rebuild_begin(bb_block_t *bb);

/* The same on `threads` threads (bb_rebuild_threads.c), with the same bits
 * whatever the number; when its scratch cannot be allocated, on the calling
 * thread (only time is lost). */
void bb_rebuild_tables_threaded(bb_block_t *bb, const partition_view_t *p,
                                int threads);

/* Copies feature d's heads and tails over the active groups, in the order
 * of `active`, into contiguous arrays of n_active entries. */
void bb_gather_feature_counts(const bb_block_t *bb, const partition_view_t *p,
                              int d, int *heads, int *tails);

/* Shared by block_bb*.c. */
double bb_log_denominator(bb_block_t *bb, int N);   /* T(N) */
void bb_slot_set_base(bb_block_t *bb, const partition_view_t *p, int k,
                      double sum_bt, double sum_btm);
void bb_slot_build_denominators(bb_block_t *bb, int k);
void bb_slot_make_empty(bb_block_t *bb, const partition_view_t *p, int k);
/* Recomputes the tables of slot k from its counts (block_bb.c). */
void bb_slot_rebuild(bb_block_t *bb, const partition_view_t *p, int k);
/* Moves row into (step +1) or out of (step -1) slot k, whose size and
 * missing count already include the move (block_bb_update.c). */
void bb_slot_update(bb_block_t *bb, const partition_view_t *p, int row,
                    int k, int step);
double bb_missing_terms(const bb_block_t *bb, const partition_view_t *p,
                        int row, int k);

/* Operations of block_bb_update.c, block_bb_score.c, block_bb_check.c. */
void bb_add_row(block_t *blk, const partition_view_t *p, int row, int k);
void bb_remove_row(block_t *blk, const partition_view_t *p, int row, int k);
void bb_add_rows(block_t *blk, const partition_view_t *p, const int *rows,
                 int m, int k);
/* bb_score_all's scores (accumulate = 0) of the slots in [k_begin, k_end)
 * only, k_begin a multiple of SLOT_BLOCK (whole blocks are written, up to
 * the end of the block holding k_end - 1): two threads split a row's slots
 * (sweep_pair.h) and get the bits of one call over all of them. */
void bb_score_range(const block_t *blk, const partition_view_t *p, int row,
                    double *scores, int k_begin, int k_end);
void bb_score_all(block_t *blk, const partition_view_t *p, int row,
                  double *scores, int accumulate);
double bb_score_slot(const block_t *blk, const partition_view_t *p, int row,
                     int k);
double bb_score_slot_loo(const block_t *blk, const partition_view_t *p,
                         int row, int k);
double bb_group_log_marginal(const block_t *blk, const partition_view_t *p,
                             int k);
double bb_merged_log_marginal(const block_t *blk, const partition_view_t *p,
                              int k1, int k2);
const char *bb_check(const block_t *blk, const partition_view_t *p);

#endif

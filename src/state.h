/* The latent state of one chain: a partition of the rows into groups, the
 * groups' sufficient statistics, the hyperparameters, and cached log
 * predictive tables that make scoring a row against a group a sparse sum.
 *
 * Groups live in numbered slots (group id = slot + 1 in R). Besides the
 * non-empty ("active") slots there is always exactly one empty "ghost" slot:
 * the new group that the assign kernel offers (Neal 2000, algorithm 3).
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
 * The implementation is split by concern: state.c (memory, tables, slot
 * bookkeeping), state_update.c (moving a row), state_score.c (scoring),
 * state_check.c (an audit for tests). */
#ifndef MICROSCOPES_STATE_H
#define MICROSCOPES_STATE_H

#include "data.h"

/* Slots are scored in blocks of this many; capacity and slot_span are
 * multiples of it. 8 doubles are one 64-byte cache line. */
#define SLOT_BLOCK 8

/* Distinct hyperparameter values that get shared log tables (state.c). */
#define MAX_SHARED_VALUES 4

typedef struct {
    int n, D;
    double alpha;           /* CRP concentration */
    double *a, *b, *s;      /* per-feature beta hyperparameters; s = a + b */
    double *log_a, *log_b;  /* log a, log b: the tables of an empty slot */
    int *group_of_row;      /* slot of each row */

    int capacity;           /* slots allocated */
    int slot_span;          /* every slot in use is below this */
    int *size;              /* rows in each slot */
    char *in_use;           /* slot is active or the ghost */
    int *missing;           /* missing entries among the slot's rows */
    int *heads, *tails;     /* capacity x D */
    double *log_ah, *log_ahm, *log_bt, *log_btm;    /* capacity x D */
    double *log_sm, *log_smm;   /* capacity x D; kept where missing > 0 */
    double *delta_loo;          /* capacity x D */
    double *delta_blocks;       /* per block of slots, D x SLOT_BLOCK */
    double *base, *base_loo;    /* capacity */
    double *scores;             /* capacity: output of state_score_row_all */

    double *log_denominator;    /* n + 1: T(N), or NAN until computed */
    double *new_logs;           /* D: scratch of the row-moving passes */
    /* When few distinct hyperparameter values occur: log(v + c) for
     * c = 0..n, and each feature's table for a and for b. */
    int n_shared;               /* tables in use, or 0 */
    double *shared_logs[MAX_SHARED_VALUES];
    const double **log_a_table, **log_b_table;  /* D */

    int *active;            /* ids of the non-empty slots */
    int n_active;
    int *position;          /* index of a slot in `active`, or -1 */
    int ghost;              /* the empty slot offered as a new group */
} state_t;

/* Allocates an empty state (no rows assigned) with at least `capacity`
 * slots. All arrays are zeroed, so state_free is safe after a failure. */
int state_init(state_t *st, int n, int D, const double *a, const double *b,
               double alpha, int capacity);
void state_free(state_t *st);

/* Puts every row in the slot given by slot_of_row (0-based) and builds the
 * tables in bulk (K x D logs, not n x D). Slots must be < st->capacity. */
int state_set_assignment(state_t *st, const data_t *data,
                         const int *slot_of_row);

/* Recomputes every table of the slots in use from the counts; needed after
 * the feature hyperparameters change. */
void state_rebuild_tables(state_t *st);

/* Sets the hyperparameters of feature d (tables are not rebuilt: call
 * state_rebuild_tables before scoring or moving rows again). */
void state_set_feature_hp(state_t *st, int d, double a, double b);

/* Makes sure that a move into the ghost can make a new ghost without
 * allocating: grows the slots now, before the move, when every slot is in
 * use, so that an allocation failure leaves the state as it was. Returns
 * MS_OK or MS_ERR_NOMEM. */
int state_reserve_slot(state_t *st);

/* Gives an assigned state the order of active slots and the ghost slot of
 * a saved chain (they decide the order of the assign kernel's candidates
 * and the order of sums, hence the bits of what follows). `active_order`
 * must list every non-empty slot once; `ghost` must be an empty slot
 * below capacity. Returns 0, or 1 (state unchanged) when they do not. */
int state_restore_order(state_t *st, const int *active_order, int n_order,
                        int ghost);

/* Moves row i out of its group, which is released when it empties. */
void state_remove_row(state_t *st, const data_t *data, int row);

/* Adds row i to `slot`; if slot is the ghost, it becomes active and a new
 * ghost is made (which may need memory: MS_ERR_NOMEM). */
int state_add_row(state_t *st, const data_t *data, int row, int slot);

/* Fills st->scores[k] with log p(row | group in slot k) for every slot in
 * use (entries of other slots below slot_span are meaningless). The row's
 * own slot gets the score with the row counted twice: use
 * state_score_row_loo for it. */
void state_score_row_all(state_t *st, const data_t *data, int row);

/* log p(row | its own group without the row). */
double state_score_row_loo(const state_t *st, const data_t *data, int row);

/* Copies feature d's heads and tails over the active groups, in the order
 * of `active`, into contiguous arrays of n_active entries: the layout the
 * hyperparameter kernels and the scores read many times. */
void state_gather_feature_counts(const state_t *st, int d, int *heads,
                                 int *tails);

/* Recounts everything from the data and recomputes every cached table,
 * comparing with what the incremental updates left. Returns NULL when all
 * agree, or a description of the first disagreement. For tests. */
const char *state_check(const state_t *st, const data_t *data);

#endif

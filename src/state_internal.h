/* Helpers shared by the files that implement state.h (state.c,
 * state_update.c, state_score.c, state_check.c); not part of its
 * interface. */
#ifndef MICROSCOPES_STATE_INTERNAL_H
#define MICROSCOPES_STATE_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include "state.h"

/* log(x + count), or 0 for a count below zero: the "-1" tables hold 0 where
 * the count they stand for does not exist (see state.h). Every table entry
 * is computed by this one expression (or read from a table it filled), so
 * that incremental updates and rebuilds from scratch agree to the last
 * bit. */
/* Slot counts are kept to whole blocks of SLOT_BLOCK (state.h). */
static inline int round_up_to_block(int k) {
    return (k + SLOT_BLOCK - 1) / SLOT_BLOCK * SLOT_BLOCK;
}

static inline double log_shift(double x, int count) {
    return count >= 0 ? log(x + (double)count) : 0.0;
}

/* Slot k's delta for feature 0; feature d is d * SLOT_BLOCK doubles on. */
static inline double *slot_delta(const state_t *st, int k) {
    return st->delta_blocks + (size_t)(k / SLOT_BLOCK) * st->D * SLOT_BLOCK +
           k % SLOT_BLOCK;
}

static inline int row_missing(const data_t *data, int row) {
    return data->missing_start[row + 1] - data->missing_start[row];
}

/* Sets base[k] and base_loo[k] from the sums of slot k's log_bt and log_btm
 * tables (state.c). */
void slot_set_base(state_t *st, int k, double sum_bt, double sum_btm);

/* Moves row `row` into (step +1) or out of (step -1) slot k, whose size and
 * missing count already include the move (state_update.c). */
void slot_update(state_t *st, const data_t *data, int row, int k, int step);

/* Slot bookkeeping of state.c, shared with the group-level operations of
 * state_group.c (split-merge moves, compaction). */
int state_grow(state_t *st, int new_capacity);
/* The lowest free slot, marked in use with an empty group's tables
 * (growing the arrays when all are taken): the ghost and work slots. */
int state_claim_free_slot(state_t *st, int *slot);
double log_denominator(state_t *st, int N);     /* T(N) of state.h */
void slot_build_denominators(state_t *st, int k);
void slot_make_empty(state_t *st, int k);       /* tables of an empty group */
void mark_in_use(state_t *st, int k);
void mark_free(state_t *st, int k);
void activate(state_t *st, int k);              /* appends k to `active` */
void deactivate(state_t *st, int k);

/* The sum of log p(x_d = 0 | slot k) over the row's missing features, which
 * base[k] counts and a row's score must not (state_score.c). */
double missing_terms(const state_t *st, const data_t *data, int row, int k);

/* log p(row | the rows of `slot` other than itself), for a row counted in
 * `slot` (state_score.c). */
double slot_score_row_loo(const state_t *st, const data_t *data, int row,
                          int slot);

#endif

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

#endif

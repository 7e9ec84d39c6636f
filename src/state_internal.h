/* Helpers shared by the files that implement state.h (state.c,
 * state_score.c, state_group.c, state_check.c); not part of its
 * interface. */
#ifndef MICROSCOPES_STATE_INTERNAL_H
#define MICROSCOPES_STATE_INTERNAL_H

#include <stddef.h>
#include "state.h"

/* Slot counts are kept to whole blocks of SLOT_BLOCK (state.h). */
static inline int round_up_to_block(int k) {
    return (k + SLOT_BLOCK - 1) / SLOT_BLOCK * SLOT_BLOCK;
}

/* Slot bookkeeping of state.c, shared with the group-level operations of
 * state_group.c (split-merge moves, compaction). */
int state_grow(state_t *st, int new_capacity);
/* The lowest free slot, marked in use with an empty group's statistics
 * and tables in every block (growing the arrays when all are taken): the
 * ghost and work slots. */
int state_claim_free_slot(state_t *st, int *slot);
/* Every block's clear_slot on slot k. */
void state_clear_slot(state_t *st, int k);
void mark_in_use(state_t *st, int k);
void mark_free(state_t *st, int k);
void activate(state_t *st, int k);              /* appends k to `active` */
void deactivate(state_t *st, int k);

/* state_data_log_marginal, with the bb block's per-feature terms taken
 * from bb_terms (D of them, computed as it would; state_score_threads.c)
 * when it is not NULL: one sum, in one order, for both (state_score.c). */
double state_data_log_marginal_from(const state_t *st, int *heads,
                                    int *tails, const double *bb_terms);

#endif

/* Group-level operations on the state (state.h), for moves that change
 * whole groups at once (split-merge, kernels_split_merge.c) and for slot
 * compaction.
 *
 * A move that proposes a new partition of some rows builds the proposed
 * groups in "work slots": free slots of the state, in use but not active,
 * into which rows are counted without leaving their own group (the row's
 * group_of_row is untouched). A work slot keeps every cached table of a
 * real group, so scoring a row against it is the sparse sum of block_bb.h
 * (a base plus one delta per on-feature) and counting a row in costs one
 * log per observed feature. An accepted proposal turns the work slots into
 * groups without moving a row again; a rejected one releases them.
 *
 * Each operation calls every feature block (block.h) once: the log
 * marginal of a group, the score of a row against a chosen slot, and
 * moving a row into or out of a slot. */
#ifndef MICROSCOPES_STATE_GROUP_H
#define MICROSCOPES_STATE_GROUP_H

#include "data.h"
#include "state.h"

/* Claims the lowest free slot that is not the ghost as an empty work slot
 * (growing the arrays when none is free) and stores it in *slot. */
int state_claim_work_slot(state_t *st, int *slot);

/* Empties a work slot (or an active slot whose rows have all been given
 * to other groups) and frees it. */
void state_release_slot(state_t *st, int slot);

/* Counts row `row` into (step +1) or out of (step -1) slot k's statistics
 * and tables; the row's assignment is not changed. */
void state_slot_move_row(state_t *st, const data_t *data, int row, int k,
                         int step);

/* Counts rows[0..m) into slot k, as m calls of state_slot_move_row(+1)
 * in that order would (the same bits), in one call per block where every
 * block has add_rows (block.h). */
void state_slot_add_rows(state_t *st, const data_t *data, const int *rows,
                         int m, int k);

/* log p(row | the rows counted in slot k), for a row not counted in k. */
double state_score_row_slot(const state_t *st, const data_t *data, int row,
                            int k);

/* log p(row | the other rows counted in slot k), for a row counted in k. */
double state_score_row_slot_loo(const state_t *st, const data_t *data,
                                int row, int k);

/* Closed-form log marginal likelihood of the rows counted in slot k, over
 * every block (for bb: sum_d [log B(a_d + h_d, b_d + t_d) - log B(a_d,
 * b_d)], a feature the group never observed adding 0). */
double state_group_log_marginal(const state_t *st, int k);

/* The same for the rows of slots k1 and k2 together (a merge's target). */
double state_merged_log_marginal(const state_t *st, int k1, int k2);

/* Makes the work slots `with_i` and `with_j`, which hold every row of
 * active slot `from` between them, the groups of those rows, and frees
 * `from`. rows[0..n_rows) are the rows of `from`, side[r] = 0 for a row
 * counted in with_i and 1 for with_j. */
void state_commit_split(state_t *st, int from, int with_i, int with_j,
                        const int *rows, const char *side, int n_rows);

/* Moves every row of active slot `absorbed` (rows[0..n_rows)) into active
 * slot `into` and frees `absorbed`, the rows counted in as by
 * state_slot_add_rows. */
void state_merge_groups(state_t *st, const data_t *data, int into,
                        int absorbed, const int *rows, int n_rows);

/* Whether the slots in use span more than about twice the groups, so that
 * every row's score pays for empty slots (state_score_row_all walks every
 * slot below slot_span). */
int state_needs_compaction(const state_t *st);

/* Relabels the slots so that the active groups occupy slots 0..K-1 in the
 * order of their old ids, and the ghost slot K. The order of `active` (the
 * order in which kernels visit groups) and every table are kept, so draws
 * do not change; only group ids do. */
void state_compact(state_t *st);

#endif

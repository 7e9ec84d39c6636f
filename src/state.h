/* The latent state of one chain: a partition of the rows into groups,
 * the CRP concentration, and one feature block per likelihood kind of the
 * model (block.h), which holds its features' statistics, hyperparameters
 * and cached tables.
 *
 * Groups live in numbered slots (group id = slot + 1 in R). Besides the
 * non-empty ("active") slots there is always exactly one empty "ghost" slot:
 * the new group that the assign kernel offers (Neal 2000, algorithm 3).
 *
 * The partition calls each block once per row and move (never per
 * feature): a row's score against every slot is the first block's scores
 * plus the others', so a model with one block (every binary model) computes
 * exactly what that block computes alone. The beta-Bernoulli block and its
 * tables are described in block_bb.h.
 *
 * The implementation is split by concern: state.c (memory and slot
 * bookkeeping), state_score.c (scores through the blocks), state_group.c
 * (group-level moves), state_check.c (an audit for tests). */
#ifndef MICROSCOPES_STATE_H
#define MICROSCOPES_STATE_H

#include "block.h"
#include "data.h"

/* Slots are scored in blocks of this many; capacity and slot_span are
 * multiples of it. 8 doubles are one 64-byte cache line. */
#define SLOT_BLOCK 8

typedef struct {
    int n, D;               /* rows; features over every block */
    double alpha;           /* CRP concentration */
    int *group_of_row;      /* slot of each row */

    int capacity;           /* slots allocated */
    int slot_span;          /* every slot in use is below this */
    int *size;              /* rows in each slot */
    char *in_use;           /* slot is active, the ghost or a work slot */
    double *scores;         /* capacity: output of state_score_row_all */

    int *active;            /* ids of the non-empty slots */
    int n_active;
    int *position;          /* index of a slot in `active`, or -1 */
    int ghost;              /* the empty slot offered as a new group */

    int n_blocks;           /* in kind order (block.h) */
    block_t *blocks;
    int *feature_ids;       /* D: the blocks' global feature ids, block by
                             * block (each block's feature_id points in) */
    int *feature_block, *feature_local;    /* D: where global feature d is */
} state_t;

/* What a block is built from (block_init). */
typedef struct {
    int kind;
    block_data_t data;
    const int *feature_id;  /* data.n_features global ids (copied) */
    const int *hp_offset;   /* data.n_features + 1 (copied) */
    const double *hp;       /* laid out by hp_offset (copied) */
} block_spec_t;

/* The partition as the blocks read it. */
static inline partition_view_t state_view(const state_t *st) {
    partition_view_t p = {st->n, st->capacity, st->slot_span, st->size,
                          st->group_of_row, st->active, st->n_active,
                          st->ghost};
    return p;
}

/* The bb block of a state, or NULL when the model has none. */
static inline block_t *state_bb_block(const state_t *st) {
    return st->n_blocks > 0 &&
                   st->blocks[0].ops->kind == BLOCK_BETA_BERNOULLI
               ? &st->blocks[0]
               : NULL;
}

/* Allocates an empty state (no rows assigned) with at least `capacity`
 * slots and the given blocks (kinds increasing, features partitioning
 * 0..D-1). Everything is zeroed first, so state_free is safe after a
 * failure. */
int state_init(state_t *st, int n, double alpha, int capacity, int n_blocks,
               const block_spec_t *specs);

/* The all-binary state of today: one bb block over `data`, per-feature
 * hyperparameters a[d], b[d]. `data` must outlive the state. */
int state_init_bb(state_t *st, const data_t *data, const double *a,
                  const double *b, double alpha, int capacity);
void state_free(state_t *st);

/* Puts every row in the slot given by slot_of_row (0-based) and builds the
 * tables in bulk (K x D logs, not n x D). Slots must be < st->capacity. */
int state_set_assignment(state_t *st, const data_t *data,
                         const int *slot_of_row);

/* Recomputes every block's tables of the slots in use from the counts;
 * needed after feature hyperparameters change. MS_OK or MS_ERR_NOMEM. */
int state_rebuild_tables(state_t *st);

/* Sets the hyperparameters of global feature d, hp[] being its whole
 * vector (tables are not rebuilt: call state_rebuild_tables before
 * scoring or moving rows again). */
void state_set_feature_hp(state_t *st, int d, const double *hp);

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

/* The data's log marginal given the partition, every block (chain.c's
 * log joint without the CRP term). `heads`, `tails`: n + 1 ints scratch. */
double state_data_log_marginal(const state_t *st, int *heads, int *tails);

/* The same, with the same bits, the bb features' terms computed on
 * `threads` threads (state_score_threads.c; on the calling thread when
 * threads < 2 or its scratch cannot be allocated). */
double state_data_log_marginal_threaded(const state_t *st, int *heads,
                                        int *tails, int threads);

/* Checks the slot bookkeeping and recounts every block from its data
 * (block ops `check`), comparing with what the incremental updates left. Returns NULL when all
 * agree, or a description of the first disagreement. For tests. */
const char *state_check(const state_t *st, const data_t *data);

#endif

/* Group-level operations on the state: work slots, scores against chosen
 * slots, closed-form group marginals, committing a split or a merge, and
 * slot compaction (state_group.h). */
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "state_group.h"
#include "state_internal.h"
#include "status.h"

int state_claim_work_slot(state_t *st, int *slot) {
    /* The ghost is in use, so it is never claimed. A free slot has zero
     * counts (an invariant of state.c); its tables are whatever its last
     * group left, so they are reset. */
    return state_claim_free_slot(st, slot);
}

void state_release_slot(state_t *st, int slot) {
    st->size[slot] = 0;
    state_clear_slot(st, slot);
    if (st->position[slot] >= 0)
        deactivate(st, slot);
    else
        mark_free(st, slot);
}

void state_slot_move_row(state_t *st, const data_t *data, int row, int k,
                         int step) {
    (void)data;
    st->size[k] += step;
    const partition_view_t p = state_view(st);
    for (int b = 0; b < st->n_blocks; b++) {
        block_t *blk = &st->blocks[b];
        if (step > 0)
            blk->ops->add_row(blk, &p, row, k);
        else
            blk->ops->remove_row(blk, &p, row, k);
    }
}

/* Whether every block counts rows in bulk; else rows move one by one,
 * every block seeing each row in turn, as they always did. */
static int blocks_add_in_bulk(const state_t *st) {
    for (int b = 0; b < st->n_blocks; b++)
        if (st->blocks[b].ops->add_rows == NULL) return 0;
    return 1;
}

void state_slot_add_rows(state_t *st, const data_t *data, const int *rows,
                         int m, int k) {
    if (!blocks_add_in_bulk(st)) {
        for (int r = 0; r < m; r++)
            state_slot_move_row(st, data, rows[r], k, +1);
        return;
    }
    st->size[k] += m;
    const partition_view_t p = state_view(st);
    for (int b = 0; b < st->n_blocks; b++)
        st->blocks[b].ops->add_rows(&st->blocks[b], &p, rows, m, k);
}

double state_score_row_slot(const state_t *st, const data_t *data, int row,
                            int k) {
    (void)data;
    const partition_view_t p = state_view(st);
    double score = 0.0;
    for (int b = 0; b < st->n_blocks; b++) {
        const double s = st->blocks[b].ops->score_slot(&st->blocks[b], &p,
                                                       row, k);
        score = b == 0 ? s : score + s;
    }
    return score;
}

double state_score_row_slot_loo(const state_t *st, const data_t *data,
                                int row, int k) {
    (void)data;
    const partition_view_t p = state_view(st);
    double score = 0.0;
    for (int b = 0; b < st->n_blocks; b++) {
        const double s = st->blocks[b].ops->score_slot_loo(&st->blocks[b], &p,
                                                           row, k);
        score = b == 0 ? s : score + s;
    }
    return score;
}

double state_group_log_marginal(const state_t *st, int k) {
    const partition_view_t p = state_view(st);
    double score = 0.0;
    for (int b = 0; b < st->n_blocks; b++) {
        const double s =
            st->blocks[b].ops->group_log_marginal(&st->blocks[b], &p, k);
        score = b == 0 ? s : score + s;
    }
    return score;
}

double state_merged_log_marginal(const state_t *st, int k1, int k2) {
    const partition_view_t p = state_view(st);
    double score = 0.0;
    for (int b = 0; b < st->n_blocks; b++) {
        const double s = st->blocks[b].ops->merged_log_marginal(
            &st->blocks[b], &p, k1, k2);
        score = b == 0 ? s : score + s;
    }
    return score;
}

void state_commit_split(state_t *st, int from, int with_i, int with_j,
                        const int *rows, const char *side, int n_rows) {
    for (int r = 0; r < n_rows; r++)
        st->group_of_row[rows[r]] = side[r] ? with_j : with_i;
    state_release_slot(st, from);
    activate(st, with_i);
    activate(st, with_j);
}

void state_merge_groups(state_t *st, const data_t *data, int into,
                        int absorbed, const int *rows, int n_rows) {
    if (blocks_add_in_bulk(st)) {
        state_slot_add_rows(st, data, rows, n_rows, into);
        for (int r = 0; r < n_rows; r++) st->group_of_row[rows[r]] = into;
    } else {
        for (int r = 0; r < n_rows; r++) {
            state_slot_move_row(st, data, rows[r], into, +1);
            st->group_of_row[rows[r]] = into;
        }
    }
    state_release_slot(st, absorbed);
}

int state_needs_compaction(const state_t *st) {
    /* Compaction only saves time: a block kind without copy_slot keeps
     * its slots where they are. */
    for (int b = 0; b < st->n_blocks; b++)
        if (st->blocks[b].ops->copy_slot == NULL) return 0;
    return st->slot_span > 2 * round_up_to_block(st->n_active + 1);
}

/* Copies everything slot `from` holds to the free slot `to`. */
static void copy_slot(state_t *st, int from, int to) {
    const partition_view_t p = state_view(st);
    for (int b = 0; b < st->n_blocks; b++)
        st->blocks[b].ops->copy_slot(&st->blocks[b], &p, from, to);
    st->size[to] = st->size[from];
}

void state_compact(state_t *st) {
    const int K = st->n_active, old_span = st->slot_span;
    int *new_id = ms_malloc((size_t)(old_span > 0 ? old_span : 1) * sizeof(int));
    /* Compaction only saves time: without memory the state stays as it is. */
    if (new_id == NULL) return;
    int next = 0;
    for (int k = 0; k < old_span; k++)
        new_id[k] = st->position[k] >= 0 ? next++ : -1;
    /* New ids never exceed old ones, so copying in increasing order never
     * overwrites a slot that is still to be copied. */
    for (int k = 0; k < old_span; k++)
        if (new_id[k] >= 0 && new_id[k] != k) copy_slot(st, k, new_id[k]);
    for (int k = K; k < old_span; k++) {
        st->size[k] = 0;
        state_clear_slot(st, k);
        st->in_use[k] = 0;
        st->position[k] = -1;
    }
    for (int j = 0; j < K; j++) {
        const int k = new_id[st->active[j]];
        st->active[j] = k;
        st->position[k] = j;
        st->in_use[k] = 1;
    }
    for (int i = 0; i < st->n; i++)
        st->group_of_row[i] = new_id[st->group_of_row[i]];
    free(new_id);
    st->slot_span = 0;
    for (int k = 0; k < K; k++) mark_in_use(st, k);
    st->ghost = K;
    mark_in_use(st, K);
    state_clear_slot(st, K);
}

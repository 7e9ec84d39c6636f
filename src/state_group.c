/* Group-level operations on the state: work slots, scores against chosen
 * slots, closed-form group marginals, committing a split or a merge, and
 * slot compaction (state_group.h). */
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "log_gamma.h"
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
    const size_t D = (size_t)st->D;
    memset(st->heads + (size_t)slot * D, 0, D * sizeof(int));
    memset(st->tails + (size_t)slot * D, 0, D * sizeof(int));
    st->size[slot] = st->missing[slot] = 0;
    if (st->position[slot] >= 0)
        deactivate(st, slot);
    else
        mark_free(st, slot);
}

void state_slot_move_row(state_t *st, const data_t *data, int row, int k,
                         int step) {
    const int row_missing_entries = row_missing(data, row);
    if (step > 0) {
        if (row_missing_entries > 0 && st->missing[k] == 0)
            slot_build_denominators(st, k);
        st->size[k]++;
        st->missing[k] += row_missing_entries;
    } else {
        st->size[k]--;
        st->missing[k] -= row_missing_entries;
    }
    slot_update(st, data, row, k, step);
}

double state_score_row_slot(const state_t *st, const data_t *data, int row,
                            int k) {
    /* The sum of state_score_row_all for one slot, in the same order. */
    const double *delta = slot_delta(st, k);
    double score = st->base[k];
    for (int j = data->on_start[row]; j < data->on_start[row + 1]; j++)
        score += delta[(size_t)data->on_feature[j] * SLOT_BLOCK];
    if (row_missing(data, row) > 0) score -= missing_terms(st, data, row, k);
    return score;
}

double state_score_row_slot_loo(const state_t *st, const data_t *data,
                                int row, int k) {
    return slot_score_row_loo(st, data, row, k);
}

double group_log_marginal(const state_t *st, const int *heads,
                          const int *tails, const double *log_beta_ab) {
    /* The expression of score_feature (score.c), one group at a time. */
    double score = 0.0;
    for (int d = 0; d < st->D; d++) {
        const int h = heads[d], t = tails[d];
        if (h + t == 0) continue;
        const double a = st->a[d], b = st->b[d];
        score += log_gamma(a + h) + log_gamma(b + t) -
                 log_gamma(a + b + h + t) - log_beta_ab[d];
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
    for (int r = 0; r < n_rows; r++) {
        state_slot_move_row(st, data, rows[r], into, +1);
        st->group_of_row[rows[r]] = into;
    }
    state_release_slot(st, absorbed);
}

int state_needs_compaction(const state_t *st) {
    return st->slot_span > 2 * round_up_to_block(st->n_active + 1);
}

/* Copies everything slot `from` holds to the free slot `to`. */
static void copy_slot(state_t *st, int from, int to) {
    const size_t D = (size_t)st->D, src = (size_t)from * D,
                 dst = (size_t)to * D;
    memcpy(st->heads + dst, st->heads + src, D * sizeof(int));
    memcpy(st->tails + dst, st->tails + src, D * sizeof(int));
    double *tables[] = {st->log_ah, st->log_ahm, st->log_bt, st->log_btm,
                        st->log_sm, st->log_smm, st->delta_loo};
    for (size_t j = 0; j < sizeof(tables) / sizeof(tables[0]); j++)
        memcpy(tables[j] + dst, tables[j] + src, D * sizeof(double));
    const double *delta_from = slot_delta(st, from);
    double *delta_to = slot_delta(st, to);
    for (size_t d = 0; d < D; d++)
        delta_to[d * SLOT_BLOCK] = delta_from[d * SLOT_BLOCK];
    st->size[to] = st->size[from];
    st->missing[to] = st->missing[from];
    st->base[to] = st->base[from];
    st->base_loo[to] = st->base_loo[from];
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
    const size_t D = (size_t)st->D;
    for (int k = K; k < old_span; k++) {
        memset(st->heads + (size_t)k * D, 0, D * sizeof(int));
        memset(st->tails + (size_t)k * D, 0, D * sizeof(int));
        st->size[k] = st->missing[k] = 0;
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
    slot_make_empty(st, K);
}

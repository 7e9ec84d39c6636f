/* The state's memory and the bookkeeping of slots (state.h); every block
 * is called once per move. */
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "block_bb.h"
#include "state_internal.h"
#include "status.h"

static int grow(void **ptr, size_t bytes) {
    void *p = ms_realloc(*ptr, bytes);
    if (p == NULL) return MS_ERR_NOMEM;
    *ptr = p;
    return MS_OK;
}

/* Grows every per-slot array, the partition's and each block's, to
 * new_capacity (rounded up to a block), zeroing the new slots. On failure
 * the arrays that did grow stay valid and owned, and `capacity` keeps its
 * old value (a block asked again zeroes from there). */
int state_grow(state_t *st, int new_capacity) {
    const size_t old = (size_t)st->capacity,
                 cap = (size_t)round_up_to_block(new_capacity);
    if (grow((void **)&st->size, cap * sizeof(int)) ||
        grow((void **)&st->position, cap * sizeof(int)) ||
        grow((void **)&st->active, cap * sizeof(int)) ||
        grow((void **)&st->in_use, cap * sizeof(char)) ||
        grow((void **)&st->scores, cap * sizeof(double)))
        return MS_ERR_NOMEM;
    for (size_t k = old; k < cap; k++) {
        st->size[k] = 0;
        st->position[k] = -1;
        st->in_use[k] = 0;
        st->scores[k] = 0.0;
    }
    for (int b = 0; b < st->n_blocks; b++) {
        block_t *blk = &st->blocks[b];
        if (blk->ops->grow(blk, (int)old, (int)cap)) return MS_ERR_NOMEM;
    }
    st->capacity = (int)cap;
    return MS_OK;
}

int state_init(state_t *st, int n, double alpha, int capacity, int n_blocks,
               const block_spec_t *specs) {
    memset(st, 0, sizeof(*st));
    st->n = n;
    st->alpha = alpha;
    st->ghost = -1;
    int D = 0;
    for (int b = 0; b < n_blocks; b++) D += specs[b].data.n_features;
    st->D = D;
    const size_t D1 = (size_t)(D > 0 ? D : 1);
    st->group_of_row = ms_malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    st->feature_ids = ms_malloc(D1 * sizeof(int));
    st->feature_block = ms_malloc(D1 * sizeof(int));
    st->feature_local = ms_malloc(D1 * sizeof(int));
    st->blocks = ms_calloc((size_t)(n_blocks > 0 ? n_blocks : 1),
                           sizeof(block_t));
    if (!st->group_of_row || !st->feature_ids || !st->feature_block ||
        !st->feature_local || !st->blocks)
        return MS_ERR_NOMEM;
    for (int i = 0; i < n; i++) st->group_of_row[i] = -1;
    int status = state_grow(st, capacity < 2 ? 2 : capacity);
    for (int b = 0, at = 0; b < n_blocks && status == MS_OK; b++) {
        const int F = specs[b].data.n_features;
        for (int j = 0; j < F; j++) {
            const int d = specs[b].feature_id[j];
            st->feature_ids[at + j] = d;
            st->feature_block[d] = b;
            st->feature_local[d] = j;
        }
        /* Counted before its init, which leaves it safe to free. */
        st->n_blocks++;
        status = block_init(&st->blocks[b], specs[b].kind, &specs[b].data,
                            st->feature_ids + at, specs[b].hp_offset,
                            specs[b].hp, st->capacity);
        at += F;
    }
    return status;
}

int state_init_bb(state_t *st, const data_t *data, const double *a,
                  const double *b, double alpha, int capacity) {
    const int D = data->D;
    const size_t D1 = (size_t)(D > 0 ? D : 1);
    int *feature_id = ms_malloc(D1 * sizeof(int));
    int *hp_offset = ms_malloc((D1 + 1) * sizeof(int));
    double *hp = ms_malloc(2 * D1 * sizeof(double));
    int status = MS_ERR_NOMEM;
    if (feature_id && hp_offset && hp) {
        for (int d = 0; d < D; d++) {
            feature_id[d] = d;
            hp_offset[d] = 2 * d;
            hp[2 * d] = a[d];
            hp[2 * d + 1] = b[d];
        }
        hp_offset[D] = 2 * D;
        block_spec_t spec = {BLOCK_BETA_BERNOULLI,
                             {data->n, D, NULL, NULL, NULL, NULL, data},
                             feature_id, hp_offset, hp};
        status = state_init(st, data->n, alpha, capacity, 1, &spec);
    } else {
        memset(st, 0, sizeof(*st));
    }
    free(feature_id);
    free(hp_offset);
    free(hp);
    return status;
}

void state_free(state_t *st) {
    for (int b = 0; b < st->n_blocks; b++)
        st->blocks[b].ops->free(&st->blocks[b]);
    void *arrays[] = {st->group_of_row, st->size, st->in_use, st->scores,
                      st->active, st->position, st->blocks, st->feature_ids,
                      st->feature_block, st->feature_local};
    for (size_t j = 0; j < sizeof(arrays) / sizeof(arrays[0]); j++)
        free(arrays[j]);
    memset(st, 0, sizeof(*st));
}

void state_set_feature_hp(state_t *st, int d, const double *hp) {
    block_t *blk = &st->blocks[st->feature_block[d]];
    blk->ops->set_hp(blk, st->feature_local[d], hp);
}

int state_rebuild_tables(state_t *st) {
    const partition_view_t p = state_view(st);
    int status = MS_OK;
    for (int b = 0; b < st->n_blocks && status == MS_OK; b++)
        status = st->blocks[b].ops->rebuild(&st->blocks[b], &p);
    return status;
}

/* ---- slots ---- */

void state_clear_slot(state_t *st, int k) {
    const partition_view_t p = state_view(st);
    for (int b = 0; b < st->n_blocks; b++)
        st->blocks[b].ops->clear_slot(&st->blocks[b], &p, k);
}

/* Keeps slot_span the smallest multiple of SLOT_BLOCK above every slot in
 * use, so that scoring covers no more blocks than it must. */
void mark_in_use(state_t *st, int k) {
    st->in_use[k] = 1;
    if (k >= st->slot_span) st->slot_span = round_up_to_block(k + 1);
}

void mark_free(state_t *st, int k) {
    st->in_use[k] = 0;
    int top = st->slot_span - 1;
    while (top >= 0 && !st->in_use[top]) top--;
    st->slot_span = round_up_to_block(top + 1);
}

void activate(state_t *st, int k) {
    mark_in_use(st, k);
    st->position[k] = st->n_active;
    st->active[st->n_active++] = k;
}

void deactivate(state_t *st, int k) {
    int p = st->position[k];
    int last = st->active[--st->n_active];
    st->active[p] = last;
    st->position[last] = p;
    st->position[k] = -1;
    mark_free(st, k);
}

/* Takes the lowest free slot (lowest, so ids stay small and are reused and
 * slot_span stays near the number of groups), growing the arrays when
 * every slot is taken, and gives it an empty group's tables. */
int state_claim_free_slot(state_t *st, int *slot) {
    int k = 0;
    while (k < st->capacity && st->in_use[k]) k++;
    if (k == st->capacity) {
        int status = state_grow(st, 2 * st->capacity);
        if (status) return status;
    }
    mark_in_use(st, k);
    state_clear_slot(st, k);
    *slot = k;
    return MS_OK;
}

static int make_ghost(state_t *st) {
    return state_claim_free_slot(st, &st->ghost);
}

int state_set_assignment(state_t *st, const data_t *data,
                         const int *slot_of_row) {
    (void)data; /* each block holds its own */
    for (int k = 0; k < st->capacity; k++) {
        st->size[k] = 0;
        st->in_use[k] = 0;
        st->position[k] = -1;
    }
    st->slot_span = 0;
    st->n_active = 0;
    st->ghost = -1;
    for (int i = 0; i < st->n; i++) {
        const int k = slot_of_row[i];
        st->group_of_row[i] = k;
        st->size[k]++;
    }
    /* Active slots in increasing order, so the order in which the assign
     * kernel sees groups depends on nothing but the partition. */
    for (int k = 0; k < st->capacity; k++)
        if (st->size[k] > 0) activate(st, k);
    const partition_view_t p = state_view(st);
    for (int b = 0; b < st->n_blocks; b++) {
        block_t *blk = &st->blocks[b];
        if (blk->ops->recount != NULL) {
            blk->ops->recount(blk, &p);
            continue;
        }
        /* A kind without recount: the same statistics by adding the rows
         * one at a time into cleared slots, each add seeing the size that
         * includes the row (block.h), so the partition's sizes are rebuilt
         * as the rows go in. */
        for (int k = 0; k < st->capacity; k++) st->size[k] = 0;
        for (int k = 0; k < st->capacity; k++) blk->ops->clear_slot(blk, &p, k);
        for (int i = 0; i < st->n; i++) {
            const int k = slot_of_row[i];
            st->size[k]++;
            const partition_view_t q = state_view(st);
            blk->ops->add_row(blk, &q, i, k);
        }
    }
    int status = state_rebuild_tables(st);
    return status ? status : make_ghost(st);
}

int state_reserve_slot(state_t *st) {
    /* The same doubling make_ghost() would do, done before the move. */
    if (st->n_active + 1 < st->capacity) return MS_OK;
    return state_grow(st, 2 * st->capacity);
}

int state_restore_order(state_t *st, const int *active_order, int n_order,
                        int ghost) {
    if (n_order != st->n_active || ghost < 0 || ghost >= st->capacity ||
        st->size[ghost] != 0)
        return 1;
    for (int j = 0; j < n_order; j++) {
        const int k = active_order[j];
        if (k < 0 || k >= st->capacity || st->size[k] == 0) return 1;
        for (int i = 0; i < j; i++)
            if (active_order[i] == k) return 1;
    }
    for (int j = 0; j < n_order; j++) {
        st->active[j] = active_order[j];
        st->position[active_order[j]] = j;
    }
    if (ghost != st->ghost) {
        const int old = st->ghost;
        mark_in_use(st, ghost);
        st->ghost = ghost;
        state_clear_slot(st, ghost);
        mark_free(st, old);
    }
    return 0;
}

void state_remove_row(state_t *st, const data_t *data, int row) {
    (void)data;
    const int k = st->group_of_row[row];
    st->size[k]--;
    const partition_view_t p = state_view(st);
    for (int b = 0; b < st->n_blocks; b++)
        st->blocks[b].ops->remove_row(&st->blocks[b], &p, row, k);
    st->group_of_row[row] = -1;
    if (st->size[k] == 0) deactivate(st, k);
}

int state_add_row(state_t *st, const data_t *data, int row, int slot) {
    (void)data;
    st->size[slot]++;
    const partition_view_t p = state_view(st);
    for (int b = 0; b < st->n_blocks; b++)
        st->blocks[b].ops->add_row(&st->blocks[b], &p, row, slot);
    st->group_of_row[row] = slot;
    if (st->size[slot] == 1) {
        if (slot == st->ghost) st->ghost = -1;
        activate(st, slot);
        if (st->ghost < 0) return make_ghost(st);
    }
    return MS_OK;
}

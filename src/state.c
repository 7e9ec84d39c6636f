#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "state.h"
#include "status.h"

/* log(x + count), or 0 for a count below zero: the "-1" tables hold 0 where
 * the count they stand for does not exist (see state.h). */
static inline double log_shift(double x, int count) {
    return count >= 0 ? log(x + (double)count) : 0.0;
}

static int grow(void **ptr, size_t bytes) {
    void *p = realloc(*ptr, bytes);
    if (p == NULL) return MS_ERR_NOMEM;
    *ptr = p;
    return MS_OK;
}

/* Grows every per-slot array to new_capacity, zeroing the new slots. */
static int state_grow(state_t *st, int new_capacity) {
    size_t D = (size_t)st->D, old = (size_t)st->capacity,
           cap = (size_t)new_capacity;
    if (grow((void **)&st->heads, cap * D * sizeof(int)) ||
        grow((void **)&st->tails, cap * D * sizeof(int)) ||
        grow((void **)&st->size, cap * sizeof(int)) ||
        grow((void **)&st->position, cap * sizeof(int)) ||
        grow((void **)&st->active, cap * sizeof(int)) ||
        grow((void **)&st->in_use, cap * sizeof(char)) ||
        grow((void **)&st->base, cap * sizeof(double)) ||
        grow((void **)&st->base_loo, cap * sizeof(double)))
        return MS_ERR_NOMEM;
    double **tables[] = {&st->log_ah, &st->log_ahm, &st->log_bt, &st->log_btm,
                         &st->log_sm, &st->log_smm, &st->delta,
                         &st->delta_loo};
    for (size_t j = 0; j < sizeof(tables) / sizeof(tables[0]); j++) {
        if (grow((void **)tables[j], cap * D * sizeof(double)))
            return MS_ERR_NOMEM;
        memset(*tables[j] + old * D, 0, (cap - old) * D * sizeof(double));
    }
    memset(st->heads + old * D, 0, (cap - old) * D * sizeof(int));
    memset(st->tails + old * D, 0, (cap - old) * D * sizeof(int));
    for (size_t k = old; k < cap; k++) {
        st->size[k] = 0;
        st->position[k] = -1;
        st->in_use[k] = 0;
        st->base[k] = st->base_loo[k] = 0.0;
    }
    st->capacity = new_capacity;
    return MS_OK;
}

int state_init(state_t *st, int n, int D, const double *a, const double *b,
               double alpha, int capacity) {
    memset(st, 0, sizeof(*st));
    st->n = n;
    st->D = D;
    st->alpha = alpha;
    st->ghost = -1;
    st->a = malloc((size_t)D * sizeof(double));
    st->b = malloc((size_t)D * sizeof(double));
    st->s = malloc((size_t)D * sizeof(double));
    st->group_of_row = malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    if (!st->a || !st->b || !st->s || !st->group_of_row) return MS_ERR_NOMEM;
    for (int d = 0; d < D; d++) state_set_feature_hp(st, d, a[d], b[d]);
    for (int i = 0; i < n; i++) st->group_of_row[i] = -1;
    return state_grow(st, capacity < 2 ? 2 : capacity);
}

void state_free(state_t *st) {
    void *arrays[] = {st->a, st->b, st->s, st->group_of_row, st->size,
                      st->in_use, st->heads, st->tails, st->log_ah,
                      st->log_ahm, st->log_bt, st->log_btm, st->log_sm,
                      st->log_smm, st->delta, st->delta_loo, st->base,
                      st->base_loo, st->active, st->position};
    for (size_t j = 0; j < sizeof(arrays) / sizeof(arrays[0]); j++)
        free(arrays[j]);
    memset(st, 0, sizeof(*st));
}

void state_set_feature_hp(state_t *st, int d, double a, double b) {
    st->a[d] = a;
    st->b[d] = b;
    st->s[d] = a + b;
}

/* Recomputes the tables of one slot from its counts. */
static void slot_rebuild(state_t *st, int k) {
    const int D = st->D;
    const size_t off = (size_t)k * D;
    double base = 0.0, base_loo = 0.0;
    for (int d = 0; d < D; d++) {
        const int h = st->heads[off + d], t = st->tails[off + d];
        const double ah = log_shift(st->a[d], h), ahm = log_shift(st->a[d], h - 1);
        const double bt = log_shift(st->b[d], t), btm = log_shift(st->b[d], t - 1);
        const double sm = log_shift(st->s[d], h + t),
                     smm = log_shift(st->s[d], h + t - 1);
        st->log_ah[off + d] = ah;
        st->log_ahm[off + d] = ahm;
        st->log_bt[off + d] = bt;
        st->log_btm[off + d] = btm;
        st->log_sm[off + d] = sm;
        st->log_smm[off + d] = smm;
        st->delta[off + d] = ah - bt;
        st->delta_loo[off + d] = ahm - btm;
        base += bt - sm;
        base_loo += btm - smm;
    }
    st->base[k] = base;
    st->base_loo[k] = base_loo;
}

void state_rebuild_tables(state_t *st) {
    for (int k = 0; k < st->capacity; k++)
        if (st->in_use[k]) slot_rebuild(st, k);
}

static void activate(state_t *st, int k) {
    st->in_use[k] = 1;
    st->position[k] = st->n_active;
    st->active[st->n_active++] = k;
}

static void deactivate(state_t *st, int k) {
    int p = st->position[k];
    int last = st->active[--st->n_active];
    st->active[p] = last;
    st->position[last] = p;
    st->position[k] = -1;
    st->in_use[k] = 0;
}

/* Makes the lowest free slot the ghost (lowest, so ids stay small and are
 * reused), growing the arrays when every slot is taken. */
static int make_ghost(state_t *st) {
    int k = 0;
    while (k < st->capacity && st->in_use[k]) k++;
    if (k == st->capacity) {
        int status = state_grow(st, 2 * st->capacity);
        if (status) return status;
    }
    st->in_use[k] = 1;
    st->ghost = k;
    slot_rebuild(st, k);
    return MS_OK;
}

int state_set_assignment(state_t *st, const data_t *data,
                         const int *slot_of_row) {
    const int D = st->D;
    for (int k = 0; k < st->capacity; k++) {
        st->size[k] = 0;
        st->in_use[k] = 0;
        st->position[k] = -1;
    }
    memset(st->heads, 0, (size_t)st->capacity * D * sizeof(int));
    memset(st->tails, 0, (size_t)st->capacity * D * sizeof(int));
    st->n_active = 0;
    for (int i = 0; i < st->n; i++) {
        const int k = slot_of_row[i];
        const uint8_t *row = data->codes + (size_t)i * D;
        int *h = st->heads + (size_t)k * D, *t = st->tails + (size_t)k * D;
        for (int d = 0; d < D; d++) {
            h[d] += row[d] == CODE_ON;
            t[d] += row[d] == CODE_OFF;
        }
        st->group_of_row[i] = k;
        st->size[k]++;
    }
    /* Active slots in increasing order, so the order in which the assign
     * kernel sees groups depends on nothing but the partition. */
    for (int k = 0; k < st->capacity; k++) {
        if (st->size[k] > 0) {
            activate(st, k);
            slot_rebuild(st, k);
        }
    }
    return make_ghost(st);
}

/* Moves row `row` into or out of slot k by one count per observed feature,
 * shifting each table to its neighbour and recomputing the slot's sums. */
static void slot_update(state_t *st, const data_t *data, int row, int k,
                        int step) {
    const int D = st->D;
    const size_t off = (size_t)k * D;
    const uint8_t *codes = data->codes + (size_t)row * D;
    int *heads = st->heads + off, *tails = st->tails + off;
    double *ah = st->log_ah + off, *ahm = st->log_ahm + off;
    double *bt = st->log_bt + off, *btm = st->log_btm + off;
    double *sm = st->log_sm + off, *smm = st->log_smm + off;
    double *delta = st->delta + off, *delta_loo = st->delta_loo + off;
    double base = 0.0, base_loo = 0.0;
    for (int d = 0; d < D; d++) {
        const uint8_t code = codes[d];
        if (code != CODE_MISSING) {
            const int m = heads[d] + tails[d] + step;
            if (step > 0) {
                smm[d] = sm[d];
                sm[d] = log(st->s[d] + (double)m);
            } else {
                sm[d] = smm[d];
                smm[d] = log_shift(st->s[d], m - 1);
            }
            if (code == CODE_ON) {
                const int h = heads[d] += step;
                if (step > 0) {
                    ahm[d] = ah[d];
                    ah[d] = log(st->a[d] + (double)h);
                } else {
                    ah[d] = ahm[d];
                    ahm[d] = log_shift(st->a[d], h - 1);
                }
            } else {
                const int t = tails[d] += step;
                if (step > 0) {
                    btm[d] = bt[d];
                    bt[d] = log(st->b[d] + (double)t);
                } else {
                    bt[d] = btm[d];
                    btm[d] = log_shift(st->b[d], t - 1);
                }
            }
            delta[d] = ah[d] - bt[d];
            delta_loo[d] = ahm[d] - btm[d];
        }
        base += bt[d] - sm[d];
        base_loo += btm[d] - smm[d];
    }
    st->base[k] = base;
    st->base_loo[k] = base_loo;
}

void state_remove_row(state_t *st, const data_t *data, int row) {
    const int k = st->group_of_row[row];
    slot_update(st, data, row, k, -1);
    st->group_of_row[row] = -1;
    if (--st->size[k] == 0) deactivate(st, k);
}

int state_add_row(state_t *st, const data_t *data, int row, int slot) {
    slot_update(st, data, row, slot, +1);
    st->group_of_row[row] = slot;
    if (st->size[slot]++ == 0) {
        if (slot == st->ghost) st->ghost = -1;
        activate(st, slot);
        if (st->ghost < 0) return make_ghost(st);
    }
    return MS_OK;
}

double state_score_row(const state_t *st, const data_t *data, int row,
                       int slot) {
    const size_t off = (size_t)slot * st->D;
    const double *delta = st->delta + off;
    double score = st->base[slot];
    for (int j = data->on_start[row]; j < data->on_start[row + 1]; j++)
        score += delta[data->on_feature[j]];
    for (int j = data->missing_start[row]; j < data->missing_start[row + 1];
         j++) {
        const int d = data->missing_feature[j];
        score -= st->log_bt[off + d] - st->log_sm[off + d];
    }
    return score;
}

double state_score_row_loo(const state_t *st, const data_t *data, int row) {
    const int slot = st->group_of_row[row];
    const size_t off = (size_t)slot * st->D;
    const double *delta = st->delta_loo + off;
    double score = st->base_loo[slot];
    for (int j = data->on_start[row]; j < data->on_start[row + 1]; j++)
        score += delta[data->on_feature[j]];
    for (int j = data->missing_start[row]; j < data->missing_start[row + 1];
         j++) {
        const int d = data->missing_feature[j];
        score -= st->log_btm[off + d] - st->log_smm[off + d];
    }
    return score;
}

/* The state's memory, its tables and the bookkeeping of slots (state.h). */
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "log_sum.h"
#include "state_internal.h"
#include "status.h"


static int grow(void **ptr, size_t bytes) {
    void *p = ms_realloc(*ptr, bytes);
    if (p == NULL) return MS_ERR_NOMEM;
    *ptr = p;
    return MS_OK;
}

/* Grows every per-slot array to new_capacity (rounded up to a block),
 * zeroing the new slots. On failure the arrays that did grow stay valid
 * and owned. The delta tiles need no re-layout: new blocks are appended. */
int state_grow(state_t *st, int new_capacity) {
    const size_t D = (size_t)st->D, old = (size_t)st->capacity,
                 cap = (size_t)round_up_to_block(new_capacity);
    if (grow((void **)&st->heads, cap * D * sizeof(int)) ||
        grow((void **)&st->tails, cap * D * sizeof(int)) ||
        grow((void **)&st->size, cap * sizeof(int)) ||
        grow((void **)&st->missing, cap * sizeof(int)) ||
        grow((void **)&st->position, cap * sizeof(int)) ||
        grow((void **)&st->active, cap * sizeof(int)) ||
        grow((void **)&st->in_use, cap * sizeof(char)) ||
        grow((void **)&st->base, cap * sizeof(double)) ||
        grow((void **)&st->base_loo, cap * sizeof(double)) ||
        grow((void **)&st->scores, cap * sizeof(double)))
        return MS_ERR_NOMEM;
    double **tables[] = {&st->log_ah, &st->log_ahm, &st->log_bt,
                         &st->log_btm, &st->log_sm, &st->log_smm,
                         &st->delta_loo, &st->delta_blocks};
    for (size_t j = 0; j < sizeof(tables) / sizeof(tables[0]); j++) {
        if (grow((void **)tables[j], cap * D * sizeof(double)))
            return MS_ERR_NOMEM;
        memset(*tables[j] + old * D, 0, (cap - old) * D * sizeof(double));
    }
    memset(st->heads + old * D, 0, (cap - old) * D * sizeof(int));
    memset(st->tails + old * D, 0, (cap - old) * D * sizeof(int));
    for (size_t k = old; k < cap; k++) {
        st->size[k] = st->missing[k] = 0;
        st->position[k] = -1;
        st->in_use[k] = 0;
        st->base[k] = st->base_loo[k] = st->scores[k] = 0.0;
    }
    st->capacity = (int)cap;
    return MS_OK;
}

int state_init(state_t *st, int n, int D, const double *a, const double *b,
               double alpha, int capacity) {
    memset(st, 0, sizeof(*st));
    st->n = n;
    st->D = D;
    st->alpha = alpha;
    st->ghost = -1;
    const size_t D1 = (size_t)(D > 0 ? D : 1);
    st->a = ms_malloc(D1 * sizeof(double));
    st->b = ms_malloc(D1 * sizeof(double));
    st->s = ms_malloc(D1 * sizeof(double));
    st->log_a = ms_malloc(D1 * sizeof(double));
    st->log_b = ms_malloc(D1 * sizeof(double));
    st->new_logs = ms_malloc(D1 * sizeof(double));
    st->log_a_table = ms_malloc(D1 * sizeof(double *));
    st->log_b_table = ms_malloc(D1 * sizeof(double *));
    st->group_of_row = ms_malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    st->log_denominator = ms_malloc((size_t)(n + 1) * sizeof(double));
    if (!st->a || !st->b || !st->s || !st->log_a || !st->log_b ||
        !st->new_logs || !st->log_a_table || !st->log_b_table ||
        !st->group_of_row || !st->log_denominator)
        return MS_ERR_NOMEM;
    for (int d = 0; d < D; d++) state_set_feature_hp(st, d, a[d], b[d]);
    for (int i = 0; i < n; i++) st->group_of_row[i] = -1;
    for (int N = 0; N <= n; N++) st->log_denominator[N] = NAN;
    return state_grow(st, capacity < 2 ? 2 : capacity);
}

void state_free(state_t *st) {
    void *arrays[] = {st->a, st->b, st->s, st->log_a, st->log_b,
                      st->new_logs, st->log_a_table, st->log_b_table,
                      st->group_of_row, st->log_denominator, st->size,
                      st->in_use, st->missing, st->heads, st->tails,
                      st->log_ah, st->log_ahm, st->log_bt, st->log_btm,
                      st->log_sm, st->log_smm, st->delta_loo,
                      st->delta_blocks, st->base, st->base_loo, st->scores,
                      st->active, st->position};
    for (size_t j = 0; j < sizeof(arrays) / sizeof(arrays[0]); j++)
        free(arrays[j]);
    for (int i = 0; i < MAX_SHARED_VALUES; i++) free(st->shared_logs[i]);
    memset(st, 0, sizeof(*st));
}

void state_set_feature_hp(state_t *st, int d, double a, double b) {
    st->a[d] = a;
    st->b[d] = b;
    st->s[d] = a + b;
}

/* ---- tables ---- */

/* T(N) = sum_d log(s_d + N), the log denominator of a clean slot of size N
 * (see state.h), memoised until the hyperparameters change. */
double log_denominator(state_t *st, int N) {
    double *memo = &st->log_denominator[N];
    if (isnan(*memo)) *memo = sum_log_shifted(st->s, st->D, (double)N);
    return *memo;
}

void slot_set_base(state_t *st, int k, double sum_bt, double sum_btm) {
    if (st->missing[k] == 0) {
        const int N = st->size[k];
        st->base[k] = sum_bt - log_denominator(st, N);
        st->base_loo[k] = N > 0 ? sum_btm - log_denominator(st, N - 1) : 0.0;
        return;
    }
    const size_t off = (size_t)k * st->D;
    double sum_sm = 0.0, sum_smm = 0.0;
    for (int d = 0; d < st->D; d++) {
        sum_sm += st->log_sm[off + d];
        sum_smm += st->log_smm[off + d];
    }
    st->base[k] = sum_bt - sum_sm;
    st->base_loo[k] = sum_btm - sum_smm;
}

/* Fills the per-feature denominator tables of slot k from its counts: done
 * when the slot takes its first row with missing entries. */
void slot_build_denominators(state_t *st, int k) {
    const size_t off = (size_t)k * st->D;
    for (int d = 0; d < st->D; d++) {
        const int m = st->heads[off + d] + st->tails[off + d];
        st->log_sm[off + d] = log_shift(st->s[d], m);
        st->log_smm[off + d] = log_shift(st->s[d], m - 1);
    }
}

/* Recomputes the tables of one slot from its counts. */
static void slot_rebuild(state_t *st, int k) {
    const int D = st->D;
    const size_t off = (size_t)k * D;
    double *delta = slot_delta(st, k);
    double sum_bt = 0.0, sum_btm = 0.0;
    for (int d = 0; d < D; d++) {
        const int h = st->heads[off + d], t = st->tails[off + d];
        const double ah = log_shift(st->a[d], h), ahm = log_shift(st->a[d], h - 1);
        const double bt = log_shift(st->b[d], t), btm = log_shift(st->b[d], t - 1);
        st->log_ah[off + d] = ah;
        st->log_ahm[off + d] = ahm;
        st->log_bt[off + d] = bt;
        st->log_btm[off + d] = btm;
        delta[(size_t)d * SLOT_BLOCK] = ah - bt;
        st->delta_loo[off + d] = ahm - btm;
        sum_bt += bt;
        sum_btm += btm;
    }
    if (st->missing[k] > 0) slot_build_denominators(st, k);
    slot_set_base(st, k, sum_bt, sum_btm);
}

/* Gives slot k the tables of an empty group by copying log a and log b
 * rather than taking logs: a new ghost is made whenever a row opens a
 * group. */
void slot_make_empty(state_t *st, int k) {
    const int D = st->D;
    const size_t off = (size_t)k * D;
    double *delta = slot_delta(st, k);
    memcpy(st->log_ah + off, st->log_a, (size_t)D * sizeof(double));
    memcpy(st->log_bt + off, st->log_b, (size_t)D * sizeof(double));
    memset(st->log_ahm + off, 0, (size_t)D * sizeof(double));
    memset(st->log_btm + off, 0, (size_t)D * sizeof(double));
    memset(st->delta_loo + off, 0, (size_t)D * sizeof(double));
    double sum_b = 0.0;
    for (int d = 0; d < D; d++) {
        delta[(size_t)d * SLOT_BLOCK] = st->log_a[d] - st->log_b[d];
        sum_b += st->log_b[d];
    }
    slot_set_base(st, k, sum_b, 0.0);
}

/* When at most MAX_SHARED_VALUES distinct numbers occur among the a_d and
 * b_d (the default start a = b = 1 until the first hyperparameter update,
 * fixed hyperparameters, a grid kernel), tabulates log(v + c) for every
 * count c = 0..n of each, by the expression of log_shift, so that moving a
 * row costs table look-ups instead of logs and gives the same bits.
 * Slice-sampled hyperparameters are all distinct and leave the tables off
 * (n_shared = 0); so does a failed allocation, since they only save time. */
static void share_log_tables(state_t *st) {
    double values[MAX_SHARED_VALUES];
    int n_values = 0;
    st->n_shared = 0;
    for (int j = 0; j < 2 * st->D; j++) {
        const double v = j < st->D ? st->a[j] : st->b[j - st->D];
        int i = 0;
        while (i < n_values && values[i] != v) i++;
        if (i == n_values) {
            if (n_values == MAX_SHARED_VALUES) return;
            values[n_values++] = v;
        }
    }
    for (int i = 0; i < n_values; i++) {
        if (st->shared_logs[i] == NULL)
            st->shared_logs[i] = ms_malloc((size_t)(st->n + 1) * sizeof(double));
        if (st->shared_logs[i] == NULL) return;
        for (int c = 0; c <= st->n; c++)
            st->shared_logs[i][c] = log_shift(values[i], c);
    }
    for (int d = 0; d < st->D; d++) {
        for (int i = 0; i < n_values; i++) {
            if (st->a[d] == values[i]) st->log_a_table[d] = st->shared_logs[i];
            if (st->b[d] == values[i]) st->log_b_table[d] = st->shared_logs[i];
        }
    }
    st->n_shared = n_values;
}

void state_rebuild_tables(state_t *st) {
    for (int N = 0; N <= st->n; N++) st->log_denominator[N] = NAN;
    share_log_tables(st);
    for (int d = 0; d < st->D; d++) {
        st->log_a[d] = log_shift(st->a[d], 0);
        st->log_b[d] = log_shift(st->b[d], 0);
    }
    for (int k = 0; k < st->capacity; k++)
        if (st->in_use[k]) slot_rebuild(st, k);
}

/* ---- slots ---- */

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
 * every slot is taken, and gives it the tables of an empty group. */
int state_claim_free_slot(state_t *st, int *slot) {
    int k = 0;
    while (k < st->capacity && st->in_use[k]) k++;
    if (k == st->capacity) {
        int status = state_grow(st, 2 * st->capacity);
        if (status) return status;
    }
    mark_in_use(st, k);
    slot_make_empty(st, k);
    *slot = k;
    return MS_OK;
}

static int make_ghost(state_t *st) {
    return state_claim_free_slot(st, &st->ghost);
}

int state_set_assignment(state_t *st, const data_t *data,
                         const int *slot_of_row) {
    const int D = st->D;
    for (int k = 0; k < st->capacity; k++) {
        st->size[k] = st->missing[k] = 0;
        st->in_use[k] = 0;
        st->position[k] = -1;
    }
    st->slot_span = 0;
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
        st->missing[k] += row_missing(data, i);
    }
    /* Active slots in increasing order, so the order in which the assign
     * kernel sees groups depends on nothing but the partition. */
    for (int k = 0; k < st->capacity; k++)
        if (st->size[k] > 0) activate(st, k);
    state_rebuild_tables(st);
    return make_ghost(st);
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
        slot_make_empty(st, ghost);
        mark_free(st, old);
    }
    return 0;
}

void state_remove_row(state_t *st, const data_t *data, int row) {
    const int k = st->group_of_row[row];
    st->size[k]--;
    st->missing[k] -= row_missing(data, row);
    slot_update(st, data, row, k, -1);
    st->group_of_row[row] = -1;
    if (st->size[k] == 0) deactivate(st, k);
}

int state_add_row(state_t *st, const data_t *data, int row, int slot) {
    const int row_missing_entries = row_missing(data, row);
    if (row_missing_entries > 0 && st->missing[slot] == 0)
        slot_build_denominators(st, slot);
    st->size[slot]++;
    st->missing[slot] += row_missing_entries;
    slot_update(st, data, row, slot, +1);
    st->group_of_row[row] = slot;
    if (st->size[slot] == 1) {
        if (slot == st->ghost) st->ghost = -1;
        activate(st, slot);
        if (st->ghost < 0) return make_ghost(st);
    }
    return MS_OK;
}

void state_gather_feature_counts(const state_t *st, int d, int *heads,
                                 int *tails) {
    for (int j = 0; j < st->n_active; j++) {
        const size_t at = (size_t)st->active[j] * st->D + d;
        heads[j] = st->heads[at];
        tails[j] = st->tails[at];
    }
}

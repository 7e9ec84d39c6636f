/* A from-scratch audit of a chain's state: what the incremental updates of
 * state.c maintain (counts, sizes, slot bookkeeping, cached log tables) is
 * recomputed from the data and the assignment and compared. Tests reach it
 * through get_latent() with options(microscopes.check_state = TRUE). */
#include <math.h>
#include <stdlib.h>
#include "log_sum.h"
#include "state_internal.h"

/* Base sums are recomputed in another order than the updates summed them
 * (and T(N) is a log of products), so they agree to rounding only. */
#define BASE_TOLERANCE 1e-9

static int close_enough(double x, double y) {
    return fabs(x - y) <= BASE_TOLERANCE * (1.0 + fabs(y));
}

static const char *check_counts(const state_t *st, const data_t *data) {
    const int D = st->D;
    int *heads = calloc((size_t)st->capacity * D, sizeof(int));
    int *tails = calloc((size_t)st->capacity * D, sizeof(int));
    int *size = calloc((size_t)st->capacity, sizeof(int));
    int *missing = calloc((size_t)st->capacity, sizeof(int));
    const char *problem = NULL;
    if (!heads || !tails || !size || !missing) {
        problem = "out of memory while checking";
        goto done;
    }
    for (int i = 0; i < st->n && !problem; i++) {
        const int k = st->group_of_row[i];
        if (k < 0 || k >= st->capacity || !st->in_use[k] || k == st->ghost) {
            problem = "a row is not in an active slot";
            break;
        }
        size[k]++;
        for (int d = 0; d < D; d++) {
            const uint8_t code = data->codes[(size_t)i * D + d];
            heads[(size_t)k * D + d] += code == CODE_ON;
            tails[(size_t)k * D + d] += code == CODE_OFF;
            missing[k] += code == CODE_MISSING;
        }
    }
    for (int k = 0; k < st->capacity && !problem; k++) {
        if (size[k] != st->size[k]) problem = "a slot's size differs from its rows";
        else if (missing[k] != st->missing[k])
            problem = "a slot's missing count differs from its rows";
        for (int d = 0; d < D && !problem; d++)
            if (heads[(size_t)k * D + d] != st->heads[(size_t)k * D + d] ||
                tails[(size_t)k * D + d] != st->tails[(size_t)k * D + d])
                problem = "a slot's counts differ from the data";
    }
done:
    free(heads);
    free(tails);
    free(size);
    free(missing);
    return problem;
}

static const char *check_slots(const state_t *st) {
    int n_in_use = 0;
    for (int k = 0; k < st->capacity; k++) {
        n_in_use += st->in_use[k];
        if (st->in_use[k] && k >= st->slot_span) return "a slot in use lies beyond slot_span";
        if ((st->size[k] > 0) != (st->position[k] >= 0))
            return "the active list and the sizes disagree";
        if (st->position[k] >= 0 && st->active[st->position[k]] != k)
            return "the active list and the positions disagree";
    }
    if (st->ghost < 0 || !st->in_use[st->ghost] || st->size[st->ghost] != 0)
        return "there is no empty ghost slot";
    if (n_in_use != st->n_active + 1) return "slots in use are not the active ones and the ghost";
    if (st->slot_span % SLOT_BLOCK != 0 || st->slot_span > st->capacity)
        return "slot_span is not a block multiple within capacity";
    return NULL;
}

/* Every table entry is recomputed by the expression state.c uses, so it
 * must agree to the last bit. */
static const char *check_tables(const state_t *st) {
    const int D = st->D;
    for (int k = 0; k < st->capacity; k++) {
        if (!st->in_use[k]) continue;
        const size_t off = (size_t)k * D;
        const double *delta = slot_delta(st, k);
        double sum_bt = 0.0, sum_btm = 0.0, sum_sm = 0.0, sum_smm = 0.0;
        for (int d = 0; d < D; d++) {
            const int h = st->heads[off + d], t = st->tails[off + d];
            const double ah = log_shift(st->a[d], h), ahm = log_shift(st->a[d], h - 1);
            const double bt = log_shift(st->b[d], t), btm = log_shift(st->b[d], t - 1);
            const double sm = log_shift(st->s[d], h + t),
                         smm = log_shift(st->s[d], h + t - 1);
            if (st->log_ah[off + d] != ah || st->log_ahm[off + d] != ahm ||
                st->log_bt[off + d] != bt || st->log_btm[off + d] != btm)
                return "a cached log table differs from its count";
            if (delta[(size_t)d * SLOT_BLOCK] != ah - bt ||
                st->delta_loo[off + d] != ahm - btm)
                return "a cached delta differs from its count";
            if (st->missing[k] > 0 &&
                (st->log_sm[off + d] != sm || st->log_smm[off + d] != smm))
                return "a cached denominator differs from its count";
            sum_bt += bt;
            sum_btm += btm;
            sum_sm += sm;
            sum_smm += smm;
        }
        if (!close_enough(st->base[k], sum_bt - sum_sm))
            return "a slot's base sum differs from its tables";
        if (st->size[k] > 0 && !close_enough(st->base_loo[k], sum_btm - sum_smm))
            return "a slot's leave-one-out base sum differs from its tables";
    }
    if (st->n_shared > 0)
        for (int d = 0; d < D; d++)
            for (int c = 0; c <= st->n; c += 1 + st->n / 16)
                if (st->log_a_table[d][c] != log_shift(st->a[d], c) ||
                    st->log_b_table[d][c] != log_shift(st->b[d], c))
                    return "a shared log table does not match its feature";
    for (int N = 0; N <= st->n; N++) {
        const double T = st->log_denominator[N];
        if (!isnan(T) && !close_enough(T, sum_log_shifted(st->s, D, (double)N)))
            return "a memoised denominator is stale";
    }
    return NULL;
}

const char *state_check(const state_t *st, const data_t *data) {
    const char *problem = check_slots(st);
    if (problem == NULL) problem = check_counts(st, data);
    if (problem == NULL) problem = check_tables(st);
    return problem;
}

/* Scoring a row against the groups (state.h): the assign kernel's inner
 * loop, run for every row of every sweep. */
#include "state_internal.h"

#if SLOT_BLOCK != 8
#error "score_block adds blocks of 8 slots"
#endif

/* Adds, per on-feature of the row, that feature's line of a delta tile to
 * the scores of one block of slots: the block lives in locals, so the adds
 * stay in registers and GCC -O2 vectorises them (SLP) without any flag. */
static void score_block(const double *restrict tile, const int *restrict on,
                        int n_on, const double *restrict base,
                        double *restrict out) {
    double s0 = base[0], s1 = base[1], s2 = base[2], s3 = base[3];
    double s4 = base[4], s5 = base[5], s6 = base[6], s7 = base[7];
    for (int j = 0; j < n_on; j++) {
        const double *restrict v = tile + (size_t)on[j] * SLOT_BLOCK;
        s0 += v[0];
        s1 += v[1];
        s2 += v[2];
        s3 += v[3];
        s4 += v[4];
        s5 += v[5];
        s6 += v[6];
        s7 += v[7];
    }
    out[0] = s0;
    out[1] = s1;
    out[2] = s2;
    out[3] = s3;
    out[4] = s4;
    out[5] = s5;
    out[6] = s6;
    out[7] = s7;
}

/* log p(x_d = 0 | slot k) = log_bt - log(s + m) of each missing feature of
 * the row, which the base sum counted and the score must not. A clean
 * slot has m = size and no denominator table. */
double missing_terms(const state_t *st, const data_t *data, int row,
                     int k) {
    const size_t off = (size_t)k * st->D;
    const int *feature = data->missing_feature + data->missing_start[row];
    const int n_missing = row_missing(data, row);
    double terms = 0.0;
    if (st->missing[k] > 0) {
        for (int j = 0; j < n_missing; j++)
            terms += st->log_bt[off + feature[j]] - st->log_sm[off + feature[j]];
    } else {
        for (int j = 0; j < n_missing; j++) {
            const int d = feature[j];
            terms += st->log_bt[off + d] - log_shift(st->s[d], st->size[k]);
        }
    }
    return terms;
}

void state_score_row_all(state_t *st, const data_t *data, int row) {
    const int *on = data->on_feature + data->on_start[row];
    const int n_on = data->on_start[row + 1] - data->on_start[row];
    for (int k0 = 0; k0 < st->slot_span; k0 += SLOT_BLOCK)
        score_block(slot_delta(st, k0), on, n_on, st->base + k0,
                    st->scores + k0);
    if (row_missing(data, row) > 0) {
        for (int j = 0; j < st->n_active; j++) {
            const int k = st->active[j];
            st->scores[k] -= missing_terms(st, data, row, k);
        }
        st->scores[st->ghost] -= missing_terms(st, data, row, st->ghost);
    }
}

double state_score_row_loo(const state_t *st, const data_t *data, int row) {
    return slot_score_row_loo(st, data, row, st->group_of_row[row]);
}

double slot_score_row_loo(const state_t *st, const data_t *data, int row,
                          int slot) {
    const size_t off = (size_t)slot * st->D;
    const double *delta = st->delta_loo + off;
    double score = st->base_loo[slot];
    for (int j = data->on_start[row]; j < data->on_start[row + 1]; j++)
        score += delta[data->on_feature[j]];
    /* A row with missing entries makes its slot keep the denominators. */
    for (int j = data->missing_start[row]; j < data->missing_start[row + 1];
         j++) {
        const int d = data->missing_feature[j];
        score -= st->log_btm[off + d] - st->log_smm[off + d];
    }
    return score;
}

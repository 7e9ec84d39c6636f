/* Moving a row into or out of a slot: the sampler's hot path (state.h).
 * Each observed feature's count moves by one and each of its tables shifts
 * to its neighbour, so a move costs one new log per observed feature. */
#include "state_internal.h"

/* Rows or slots with missing entries: the slot's per-feature denominators
 * are kept while it has missing entries, and missing features are left as
 * they are. */
static void slot_update_general(state_t *st, const data_t *data, int row,
                                int k, int step) {
    const int D = st->D;
    const size_t off = (size_t)k * D;
    const uint8_t *codes = data->codes + (size_t)row * D;
    const double *a = st->a, *b = st->b, *s = st->s;
    int *heads = st->heads + off, *tails = st->tails + off;
    double *ah = st->log_ah + off, *ahm = st->log_ahm + off;
    double *bt = st->log_bt + off, *btm = st->log_btm + off;
    double *delta_loo = st->delta_loo + off;
    double *delta = slot_delta(st, k);
    const int keep_denominators = st->missing[k] > 0;
    double *sm = st->log_sm + off, *smm = st->log_smm + off;
    double sum_bt = 0.0, sum_btm = 0.0;
    for (int d = 0; d < D; d++) {
        const uint8_t code = codes[d];
        if (code == CODE_ON) {
            const int h = heads[d] += step;
            if (step > 0) {
                ahm[d] = ah[d];
                ah[d] = log_shift(a[d], h);
            } else {
                ah[d] = ahm[d];
                ahm[d] = log_shift(a[d], h - 1);
            }
        } else if (code == CODE_OFF) {
            const int t = tails[d] += step;
            if (step > 0) {
                btm[d] = bt[d];
                bt[d] = log_shift(b[d], t);
            } else {
                bt[d] = btm[d];
                btm[d] = log_shift(b[d], t - 1);
            }
        }
        if (code != CODE_MISSING) {
            delta[(size_t)d * SLOT_BLOCK] = ah[d] - bt[d];
            delta_loo[d] = ahm[d] - btm[d];
            if (keep_denominators) {
                const int m = heads[d] + tails[d];
                if (step > 0) {
                    smm[d] = sm[d];
                    sm[d] = log_shift(s[d], m);
                } else {
                    sm[d] = smm[d];
                    smm[d] = log_shift(s[d], m - 1);
                }
            }
        }
        sum_bt += bt[d];
        sum_btm += btm[d];
    }
    slot_set_base(st, k, sum_bt, sum_btm);
}

/* A fully observed row in a clean slot whose new logs come from the shared
 * tables (state.c): one pass. Whether a feature is on selects values and
 * table rows, never the address of a store, and both of its tables are
 * written: a store through a data-dependent pointer followed by loads that
 * may alias it stalls the pipeline on every other feature. */
static void slot_update_shared(state_t *st, const data_t *data, int row,
                               int k, int step) {
    const int D = st->D;
    const size_t off = (size_t)k * D;
    const uint8_t *restrict codes = data->codes + (size_t)row * D;
    const double **a_table = st->log_a_table, **b_table = st->log_b_table;
    int *restrict heads = st->heads + off, *restrict tails = st->tails + off;
    double *restrict ah = st->log_ah + off, *restrict ahm = st->log_ahm + off;
    double *restrict bt = st->log_bt + off, *restrict btm = st->log_btm + off;
    double *restrict delta_loo = st->delta_loo + off;
    double *restrict delta = slot_delta(st, k);
    double sum_bt = 0.0, sum_btm = 0.0;
    for (int d = 0; d < D; d++) {
        const int on = codes[d] == CODE_ON;
        const int h = heads[d] + (on ? step : 0), t = tails[d] + (on ? 0 : step);
        heads[d] = h;
        tails[d] = t;
        const double *table = on ? a_table[d] : b_table[d];
        const int c = on ? h : t;
        double ah_d = ah[d], ahm_d = ahm[d], bt_d = bt[d], btm_d = btm[d];
        if (step > 0) {
            const double now = table[c];
            ahm_d = on ? ah_d : ahm_d;
            btm_d = on ? btm_d : bt_d;
            ah_d = on ? now : ah_d;
            bt_d = on ? bt_d : now;
        } else {
            const double before = c > 0 ? table[c - 1] : 0.0;
            ah_d = on ? ahm_d : ah_d;
            bt_d = on ? bt_d : btm_d;
            ahm_d = on ? before : ahm_d;
            btm_d = on ? btm_d : before;
        }
        ah[d] = ah_d;
        ahm[d] = ahm_d;
        bt[d] = bt_d;
        btm[d] = btm_d;
        delta[(size_t)d * SLOT_BLOCK] = ah_d - bt_d;
        delta_loo[d] = ahm_d - btm_d;
        sum_bt += bt_d;
        sum_btm += btm_d;
    }
    slot_set_base(st, k, sum_bt, sum_btm);
}

/* A fully observed row in a clean slot, new logs taken with log(): three
 * passes so that the logs run back to back in a loop of their own (no
 * registers to spill around each call, independent logs that the CPU
 * overlaps). Pass 1 moves the counts, shifts each feature's tables to
 * their neighbour and writes the argument of its one new log (1 where
 * log_shift gives 0, since log(1) = 0 exactly); pass 2 takes the logs;
 * pass 3 stores them, the deltas and the sums. As above, values are
 * selected, never store addresses. */
static void slot_update_observed(state_t *st, const data_t *data, int row,
                                 int k, int step) {
    const int D = st->D;
    const size_t off = (size_t)k * D;
    const uint8_t *restrict codes = data->codes + (size_t)row * D;
    const double *restrict a = st->a, *restrict b = st->b;
    int *restrict heads = st->heads + off, *restrict tails = st->tails + off;
    double *restrict ah = st->log_ah + off, *restrict ahm = st->log_ahm + off;
    double *restrict bt = st->log_bt + off, *restrict btm = st->log_btm + off;
    double *restrict delta_loo = st->delta_loo + off;
    double *restrict delta = slot_delta(st, k);
    double *restrict logs = st->new_logs;
    double sum_bt = 0.0, sum_btm = 0.0;
    if (step > 0) {
        for (int d = 0; d < D; d++) {
            const int on = codes[d] == CODE_ON;
            const int h = heads[d] + on, t = tails[d] + !on;
            heads[d] = h;
            tails[d] = t;
            ahm[d] = on ? ah[d] : ahm[d];
            btm[d] = on ? btm[d] : bt[d];
            logs[d] = on ? a[d] + (double)h : b[d] + (double)t;
        }
        for (int d = 0; d < D; d++) logs[d] = log(logs[d]);
        for (int d = 0; d < D; d++) {
            const int on = codes[d] == CODE_ON;
            const double ah_d = on ? logs[d] : ah[d];
            const double bt_d = on ? bt[d] : logs[d];
            ah[d] = ah_d;
            bt[d] = bt_d;
            delta[(size_t)d * SLOT_BLOCK] = ah_d - bt_d;
            delta_loo[d] = ahm[d] - btm[d];
            sum_bt += bt_d;
            sum_btm += btm[d];
        }
    } else {
        for (int d = 0; d < D; d++) {
            const int on = codes[d] == CODE_ON;
            const int h = heads[d] - on, t = tails[d] - !on;
            heads[d] = h;
            tails[d] = t;
            ah[d] = on ? ahm[d] : ah[d];
            bt[d] = on ? bt[d] : btm[d];
            /* The new "-1" entry is log_shift(x, c - 1) for the new count c. */
            const int c = on ? h : t;
            logs[d] = c > 0 ? (on ? a[d] : b[d]) + (double)(c - 1) : 1.0;
        }
        for (int d = 0; d < D; d++) logs[d] = log(logs[d]);
        for (int d = 0; d < D; d++) {
            const int on = codes[d] == CODE_ON;
            const double ahm_d = on ? logs[d] : ahm[d];
            const double btm_d = on ? btm[d] : logs[d];
            ahm[d] = ahm_d;
            btm[d] = btm_d;
            delta[(size_t)d * SLOT_BLOCK] = ah[d] - bt[d];
            delta_loo[d] = ahm_d - btm_d;
            sum_bt += bt[d];
            sum_btm += btm_d;
        }
    }
    slot_set_base(st, k, sum_bt, sum_btm);
}

void slot_update(state_t *st, const data_t *data, int row, int k, int step) {
    if (st->missing[k] > 0 || row_missing(data, row) > 0)
        slot_update_general(st, data, row, k, step);
    else if (st->n_shared > 0)
        slot_update_shared(st, data, row, k, step);
    else
        slot_update_observed(st, data, row, k, step);
}

/* Moving a row into or out of a slot of the bb block: the sampler's hot
 * path (block_bb.h).
 * Each observed feature's count moves by one and each of its tables shifts
 * to its neighbour, so a move costs one new log per observed feature. */
#include "block_bb.h"

/* Rows or slots with missing entries: the slot's per-feature denominators
 * are kept while it has missing entries, and missing features are left as
 * they are. */
static void slot_update_general(bb_block_t *bb, const partition_view_t *p,
                                const data_t *data, int row, int k,
                                int step) {
    const int D = bb->D;
    const size_t off = (size_t)k * D;
    const uint8_t *codes = data->codes + (size_t)row * D;
    const double *a = bb->a, *b = bb->b, *s = bb->s;
    int *heads = bb->heads + off, *tails = bb->tails + off;
    double *ah = bb->log_ah + off, *ahm = bb->log_ahm + off;
    double *bt = bb->log_bt + off, *btm = bb->log_btm + off;
    double *delta_loo = bb->delta_loo + off;
    double *delta = bb_slot_delta(bb, k);
    const int keep_denominators = bb->missing[k] > 0;
    double *sm = bb->log_sm + off, *smm = bb->log_smm + off;
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
    bb_slot_set_base(bb, p, k, sum_bt, sum_btm);
}

/* A fully observed row in a clean slot whose new logs come from the shared
 * tables (state.c): one pass. Whether a feature is on selects values and
 * table rows, never the address of a store, and both of its tables are
 * written: a store through a data-dependent pointer followed by loads that
 * may alias it stalls the pipeline on every other feature. */
static void slot_update_shared(bb_block_t *bb, const partition_view_t *p,
                                const data_t *data, int row, int k,
                                int step) {
    const int D = bb->D;
    const size_t off = (size_t)k * D;
    const uint8_t *restrict codes = data->codes + (size_t)row * D;
    const double **a_table = bb->log_a_table, **b_table = bb->log_b_table;
    int *restrict heads = bb->heads + off, *restrict tails = bb->tails + off;
    double *restrict ah = bb->log_ah + off, *restrict ahm = bb->log_ahm + off;
    double *restrict bt = bb->log_bt + off, *restrict btm = bb->log_btm + off;
    double *restrict delta_loo = bb->delta_loo + off;
    double *restrict delta = bb_slot_delta(bb, k);
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
    bb_slot_set_base(bb, p, k, sum_bt, sum_btm);
}

/* A fully observed row in a clean slot, new logs taken with log(): three
 * passes so that the logs run back to back in a loop of their own (no
 * registers to spill around each call, independent logs that the CPU
 * overlaps). Pass 1 moves the counts, shifts each feature's tables to
 * their neighbour and writes the argument of its one new log (1 where
 * log_shift gives 0, since log(1) = 0 exactly); pass 2 takes the logs;
 * pass 3 stores them, the deltas and the sums. As above, values are
 * selected, never store addresses. */
static void slot_update_observed(bb_block_t *bb, const partition_view_t *p,
                                const data_t *data, int row, int k,
                                int step) {
    const int D = bb->D;
    const size_t off = (size_t)k * D;
    const uint8_t *restrict codes = data->codes + (size_t)row * D;
    const double *restrict a = bb->a, *restrict b = bb->b;
    int *restrict heads = bb->heads + off, *restrict tails = bb->tails + off;
    double *restrict ah = bb->log_ah + off, *restrict ahm = bb->log_ahm + off;
    double *restrict bt = bb->log_bt + off, *restrict btm = bb->log_btm + off;
    double *restrict delta_loo = bb->delta_loo + off;
    double *restrict delta = bb_slot_delta(bb, k);
    double *restrict logs = bb->new_logs;
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
    bb_slot_set_base(bb, p, k, sum_bt, sum_btm);
}

void bb_slot_update(bb_block_t *bb, const partition_view_t *p, int row,
                    int k, int step) {
    const data_t *data = bb->data;
    if (bb->missing[k] > 0 || row_missing(data, row) > 0)
        slot_update_general(bb, p, data, row, k, step);
    else if (bb->n_shared > 0)
        slot_update_shared(bb, p, data, row, k, step);
    else
        slot_update_observed(bb, p, data, row, k, step);
}

/* The partition has counted the row in size[k] already; the denominators
 * of a clean slot are built from its counts before the first row with
 * missing entries is counted in. */
void bb_add_row(block_t *blk, const partition_view_t *p, int row, int k) {
    bb_block_t *bb = bb_of(blk);
    const int row_missing_entries = row_missing(bb->data, row);
    if (row_missing_entries > 0 && bb->missing[k] == 0)
        bb_slot_build_denominators(bb, k);
    bb->missing[k] += row_missing_entries;
    bb_slot_update(bb, p, row, k, +1);
}

void bb_remove_row(block_t *blk, const partition_view_t *p, int row, int k) {
    bb_block_t *bb = bb_of(blk);
    bb->missing[k] -= row_missing(bb->data, row);
    bb_slot_update(bb, p, row, k, -1);
}

/* Below this many rows a bulk count saves nothing: rebuilding a slot takes
 * 4 D logs, moving a row D. */
#define BULK_MIN_ROWS 8

/* Counts rows into slot k at once (block.h add_rows). Every table entry of
 * a slot is log_shift of its counts, and its base is a sum over features
 * in feature order, however the counts got there (the denominators of a
 * slot with missing entries too: bb_slot_build_denominators, then each
 * move's log_shift of the new count), so integer counts followed by one
 * rebuild leave the bits of m row moves. With shared tables a move costs
 * look-ups, not logs, and the rows are moved one by one; each move then
 * recomputes the base whole, so the last one, made at the final size,
 * leaves the base m moves at their own sizes would. */
void bb_add_rows(block_t *blk, const partition_view_t *p, const int *rows,
                 int m, int k) {
    bb_block_t *bb = bb_of(blk);
    if (m < BULK_MIN_ROWS || bb->n_shared > 0) {
        for (int r = 0; r < m; r++) bb_add_row(blk, p, rows[r], k);
        return;
    }
    const int D = bb->D;
    const data_t *data = bb->data;
    int *restrict heads = bb->heads + (size_t)k * D;
    int *restrict tails = bb->tails + (size_t)k * D;
    for (int r = 0; r < m; r++) {
        const uint8_t *restrict codes = data->codes + (size_t)rows[r] * D;
        for (int d = 0; d < D; d++) {
            heads[d] += codes[d] == CODE_ON;
            tails[d] += codes[d] == CODE_OFF;
        }
        bb->missing[k] += row_missing(data, rows[r]);
    }
    bb_slot_rebuild(bb, p, k);
}

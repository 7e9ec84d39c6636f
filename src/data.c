#include <stddef.h>
#include "data.h"

void data_count_entries(const uint8_t *codes, int n, int D, long *n_on,
                        long *n_missing) {
    long on = 0, missing = 0;
    long total = (long)n * D;
    for (long j = 0; j < total; j++) {
        on += codes[j] == CODE_ON;
        missing += codes[j] == CODE_MISSING;
    }
    *n_on = on;
    *n_missing = missing;
}

void data_fill_index(const uint8_t *codes, int n, int D, int *on_start,
                     int *on_feature, int *missing_start,
                     int *missing_feature) {
    int on = 0, missing = 0;
    for (int i = 0; i < n; i++) {
        on_start[i] = on;
        missing_start[i] = missing;
        const uint8_t *row = codes + (long)i * D;
        for (int d = 0; d < D; d++) {
            if (row[d] == CODE_ON) on_feature[on++] = d;
            else if (row[d] == CODE_MISSING) missing_feature[missing++] = d;
        }
    }
    on_start[n] = on;
    missing_start[n] = missing;
}

/* One row's list of features (on or missing): in range, rising, each with
 * the code the list stands for. */
static int row_list_ok(const data_t *data, int row, const int *start,
                       const int *feature, uint8_t code) {
    const uint8_t *codes = data->codes + (long)row * data->D;
    int previous = -1;
    for (int j = start[row]; j < start[row + 1]; j++) {
        const int d = feature[j];
        if (d <= previous || d >= data->D || codes[d] != code) return 0;
        previous = d;
    }
    return 1;
}

const char *data_check(const data_t *data, long n_on, long n_missing) {
    const int n = data->n, D = data->D;
    if (n < 1 || D < 1) return "it has no rows or no features";
    if (data->on_start[0] != 0 || data->missing_start[0] != 0 ||
        data->on_start[n] != n_on || data->missing_start[n] != n_missing)
        return "its row offsets do not cover its feature lists";
    for (int i = 0; i < n; i++)
        if (data->on_start[i + 1] < data->on_start[i] ||
            data->missing_start[i + 1] < data->missing_start[i])
            return "its row offsets decrease";
    for (int i = 0; i < n; i++) {
        const uint8_t *row = data->codes + (long)i * D;
        int on = 0, missing = 0, bad = 0;
        for (int d = 0; d < D; d++) {
            on += row[d] == CODE_ON;
            missing += row[d] == CODE_MISSING;
            bad |= row[d] > CODE_MISSING;
        }
        if (bad) return "its codes hold values other than 0, 1 and 2";
        if (on != data->on_start[i + 1] - data->on_start[i] ||
            missing != data->missing_start[i + 1] - data->missing_start[i])
            return "its feature lists disagree with its codes";
        if (!row_list_ok(data, i, data->on_start, data->on_feature, CODE_ON) ||
            !row_list_ok(data, i, data->missing_start, data->missing_feature,
                         CODE_MISSING))
            return "its feature lists hold features out of range, out of "
                   "order or disagreeing with its codes";
    }
    return NULL;
}

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

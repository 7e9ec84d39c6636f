#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "block_util.h"
#include "status.h"

int block_grow_array(void **array, size_t size, size_t old_count,
                     size_t new_count) {
    if (new_count <= old_count) return MS_OK;
    void *grown = ms_realloc(*array, size * new_count);
    if (grown == NULL) return MS_ERR_NOMEM;
    memset((char *)grown + size * old_count, 0,
           size * (new_count - old_count));
    *array = grown;
    return MS_OK;
}

void block_column_location_scale(const block_data_t *data, int j,
                                 double *location, double *scale) {
    /* Two passes (mean, then squared deviations) for accuracy. */
    const int F = data->n_features;
    double sum = 0.0;
    long count = 0;
    for (int i = 0; i < data->n; i++) {
        double x;
        if (data->dvalues != NULL) {
            x = data->dvalues[(size_t)i * F + j];
            if (isnan(x)) continue;
        } else {
            const int32_t v = data->ivalues[(size_t)i * F + j];
            if (v == BLOCK_INT_NA) continue;
            x = v;
        }
        sum += x;
        count++;
    }
    if (count == 0) {
        *location = 0.0;
        *scale = 1.0;
        return;
    }
    const double mean = sum / count;
    double squares = 0.0;
    for (int i = 0; i < data->n; i++) {
        double x;
        if (data->dvalues != NULL) {
            x = data->dvalues[(size_t)i * F + j];
            if (isnan(x)) continue;
        } else {
            const int32_t v = data->ivalues[(size_t)i * F + j];
            if (v == BLOCK_INT_NA) continue;
            x = v;
        }
        squares += (x - mean) * (x - mean);
    }
    double sd = sqrt(squares / count);
    if (!(sd > 0)) sd = mean != 0 ? fabs(mean) : 1.0;
    *location = mean;
    *scale = sd;
}

void block_positive_support(double *lower, double *upper) {
    *lower = 0.0;
    *upper = MS_MAX_HYPERPARAMETER;
}

void block_free_common(block_t *b) {
    free(b->hp);
    free(b->hp_offset);
    free((void *)b->feature_id);
    b->hp = NULL;
    b->hp_offset = NULL;
    b->feature_id = NULL;
    b->impl = NULL;
}

/* Filled by the first block setup that needs it; every filling writes the
 * same values, so a race between two chains' setups is harmless, but
 * setups run on the main thread anyway. */
double block_log_factorial_table[BLOCK_LOG_FACTORIALS];
static int log_factorials_filled = 0;

void block_fill_log_factorials(void) {
    if (log_factorials_filled) return;
    for (int x = 0; x < BLOCK_LOG_FACTORIALS; x++)
        block_log_factorial_table[x] = x < 2 ? 0.0 : log_gamma(x + 1.0);
    log_factorials_filled = 1;
}

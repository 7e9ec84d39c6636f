/* The recorder of kept posterior draws (draws.h). */
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "block_bb.h"
#include "draws.h"
#include "status.h"

int draws_label_bytes(int n) { return n <= 65536 ? 2 : 4; }

static int draws_reserve(draws_t *draws, int capacity) {
    if (capacity <= draws->capacity) return MS_OK;
    const size_t n = (size_t)draws->n, D2 = (size_t)draws->hp_width;
    unsigned char *labels =
        ms_realloc(draws->labels, (size_t)capacity * n * draws->label_bytes + 1);
    if (labels) draws->labels = labels;
    int *groups = ms_realloc(draws->n_groups, (size_t)capacity * sizeof(int));
    if (groups) draws->n_groups = groups;
    int *iteration = ms_realloc(draws->kept_iteration, (size_t)capacity * sizeof(int));
    if (iteration) draws->kept_iteration = iteration;
    double *alpha = ms_realloc(draws->alpha, (size_t)capacity * sizeof(double));
    if (alpha) draws->alpha = alpha;
    double *joint = ms_realloc(draws->log_joint, (size_t)capacity * sizeof(double));
    if (joint) draws->log_joint = joint;
    double *hps = ms_realloc(draws->hps, (size_t)capacity * D2 * sizeof(double) + 1);
    if (hps) draws->hps = hps;
    if (!labels || !groups || !iteration || !alpha || !joint || !hps)
        return MS_ERR_NOMEM;
    draws->capacity = capacity;
    return MS_OK;
}

static int all_bb(const state_t *st) {
    const block_t *bb = state_bb_block(st);
    return bb != NULL && bb->n_features == st->D;
}

int draws_hp_width(const state_t *st) {
    if (all_bb(st)) return 2 * st->D;
    int width = 0;
    for (int k = 0; k < st->n_blocks; k++) {
        const block_t *b = &st->blocks[k];
        width += b->hp_offset[b->n_features];
    }
    return width;
}

draws_t *draws_new(int n, int D, int hp_width, long iteration, long warmup,
                   int thin, int expected) {
    draws_t *draws = ms_calloc(1, sizeof(draws_t));
    if (draws == NULL) return NULL;
    draws->n = n;
    draws->D = D;
    draws->hp_width = hp_width;
    draws->label_bytes = draws_label_bytes(n);
    draws->iteration = iteration;
    draws->warmup = warmup;
    draws->thin = thin > 0 ? thin : 1;
    if (draws_reserve(draws, expected > 0 ? expected : 1) != MS_OK) {
        draws_free(draws);
        return NULL;
    }
    return draws;
}

void draws_free(draws_t *draws) {
    if (draws == NULL) return;
    free(draws->labels);
    free(draws->n_groups);
    free(draws->kept_iteration);
    free(draws->alpha);
    free(draws->log_joint);
    free(draws->hps);
    free(draws->map);
    free(draws);
}

int draws_record(draws_t *draws, const state_t *st, double log_joint) {
    const long i = ++draws->iteration;
    if (i <= draws->warmup || (i - draws->warmup - 1) % draws->thin != 0)
        return MS_OK;
    if (draws->length == draws->capacity &&
        draws_reserve(draws, 2 * draws->capacity) != MS_OK)
        return MS_ERR_NOMEM;
    if (draws->map_size < st->capacity) {
        int *map = ms_realloc(draws->map, (size_t)st->capacity * sizeof(int));
        if (map == NULL) return MS_ERR_NOMEM;
        draws->map = map;
        draws->map_size = st->capacity;
    }
    int *map = draws->map;
    for (int k = 0; k < st->capacity; k++) map[k] = -1;
    const int t = draws->length;
    const size_t at = (size_t)t * (size_t)draws->n;
    int next = 0;
    for (int r = 0; r < draws->n; r++) {
        const int slot = st->group_of_row[r];
        if (map[slot] < 0) map[slot] = next++;
        if (draws->label_bytes == 2)
            ((uint16_t *)draws->labels)[at + r] = (uint16_t)map[slot];
        else
            ((int32_t *)draws->labels)[at + r] = (int32_t)map[slot];
    }
    draws->n_groups[t] = st->n_active;
    draws->kept_iteration[t] = (int)i;
    draws->alpha[t] = st->alpha;
    draws->log_joint[t] = log_joint;
    double *hps = draws->hps + (size_t)t * (size_t)draws->hp_width;
    if (all_bb(st)) {
        /* Today's layout, so that all-bb fits read as before. */
        const bb_block_t *bb = bb_of(state_bb_block(st));
        memcpy(hps, bb->a, (size_t)draws->D * sizeof(double));
        memcpy(hps + draws->D, bb->b, (size_t)draws->D * sizeof(double));
    } else {
        /* Global feature order; a bb feature's (alpha, beta) are read from
         * the block's own (a, b), which its slice kernel updates. */
        int at = 0;
        for (int d = 0; d < st->D; d++) {
            const block_t *b = &st->blocks[st->feature_block[d]];
            const int j = st->feature_local[d];
            const int lo = b->hp_offset[j], len = b->hp_offset[j + 1] - lo;
            if (at + len > draws->hp_width) return MS_ERR_UNSUPPORTED;
            if (b->ops->kind == BLOCK_BETA_BERNOULLI) {
                hps[at] = bb_of(b)->a[j];
                hps[at + 1] = bb_of(b)->b[j];
            } else {
                memcpy(hps + at, b->hp + lo, (size_t)len * sizeof(double));
            }
            at += len;
        }
        if (at != draws->hp_width) return MS_ERR_UNSUPPORTED;
    }
    draws->length++;
    return MS_OK;
}

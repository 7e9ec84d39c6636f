/* The posterior draws a chain keeps while it runs (dpmixture()): after every
 * iteration the chain hands its state to its recorder, which keeps it when
 * the iteration is past the warmup and on the thinning grid. Pure C: the
 * recorder runs in the chain's worker thread.
 *
 * A kept draw is the partition, labelled 0, 1, ... by first appearance
 * (so that it does not depend on the sampler's slot numbers), stored in
 * 16-bit labels when every label fits (n <= 65,536) and in 32-bit labels
 * otherwise, plus the number of groups, alpha, the log joint and every
 * feature's hyperparameters. */
#ifndef MICROSCOPES_DRAWS_H
#define MICROSCOPES_DRAWS_H

#include <stdint.h>
#include "state.h"

typedef struct draws {
    int n, D;
    int label_bytes;        /* 2 or 4 */
    long iteration;         /* iterations the chain has completed */
    long warmup;            /* iterations 1..warmup are not kept */
    int thin;               /* keep iteration i when (i - warmup - 1) % thin == 0 */
    int length, capacity;   /* draws kept, and room for */
    unsigned char *labels;  /* capacity x n labels of label_bytes each */
    int *n_groups;
    int *kept_iteration;
    double *alpha, *log_joint;
    int hp_width;           /* hyperparameters per draw (draws_hp_width) */
    double *hps;            /* capacity x hp_width: all-bb states a_1..a_D,
                             * then b_1..b_D (today's layout); any other
                             * state every feature's hp vector in global
                             * feature order (dd: its k alphas) */
    int *map;               /* scratch: slot -> label, map_size entries */
    int map_size;
} draws_t;

/* Label width for n rows. */
int draws_label_bytes(int n);

/* Hyperparameters a draw of state `st` records: 2 D for an all-bb state,
 * else the sum of the features' hp vector lengths. */
int draws_hp_width(const state_t *st);

/* A recorder for a chain that has completed `iteration` iterations, with
 * room for `expected` draws (it grows if more come). NULL without memory. */
draws_t *draws_new(int n, int D, int hp_width, long iteration, long warmup,
                   int thin, int expected);
void draws_free(draws_t *draws);

/* Called once after each iteration of the chain. MS_OK or MS_ERR_NOMEM. */
int draws_record(draws_t *draws, const state_t *st, double log_joint);

/* Label of row i in kept draw t. */
static inline int draws_label(const draws_t *draws, int t, int i) {
    const size_t at = (size_t)t * (size_t)draws->n + (size_t)i;
    if (draws->label_bytes == 2)
        return ((const uint16_t *)draws->labels)[at];
    return ((const int32_t *)draws->labels)[at];
}

#endif

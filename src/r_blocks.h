/* Reading packed blocks from R (r_blocks.c). */
#ifndef MICROSCOPES_R_BLOCKS_H
#define MICROSCOPES_R_BLOCKS_H

#include <Rinternals.h>
#include "state.h"

typedef struct {
    int n_blocks, n, D;
    block_spec_t specs[N_BLOCK_KINDS];
    int has_bb;
    data_t bb_data;         /* the bb block's packed data, when has_bb */
} packed_blocks_t;

/* Whether `view` is a list of packed blocks rather than a dataview. */
int blocks_is_list(SEXP view);

/* Checks and reads blocks and their hyperparameters (a list, per block,
 * of list(hp = double, hp_offset = integer F + 1)); raises R errors. */
int blocks_read(SEXP blocks, SEXP hps, packed_blocks_t *out);

/* Points the bb spec at the data_t that will outlive the state. */
void blocks_bind(packed_blocks_t *pb, const data_t *bb_data);

/* get_latent() of a state with blocks of any kind: per global feature, its
 * hyperparameter vector (a list of D), its statistics over the groups in
 * slots[0..K) (a list of D K x n_stats matrices), and its block's kind. */
SEXP blocks_latent_hps(const state_t *st);
SEXP blocks_latent_stats(const state_t *st, const int *slots, int K);
SEXP blocks_feature_kinds(const state_t *st);

#endif

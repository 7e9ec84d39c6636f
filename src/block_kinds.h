/* The operations table and setup of each feature-block kind, for
 * block.c's dispatch. A kind's setup runs after block_init has copied the
 * feature ids, hp_offset and hp into the block: it allocates b->impl for
 * `capacity` slots, with the tables of empty groups. */
#ifndef MICROSCOPES_BLOCK_KINDS_H
#define MICROSCOPES_BLOCK_KINDS_H

#include "block.h"


extern const block_ops_t block_dd_ops;
int block_dd_setup(block_t *b, int capacity);
extern const block_ops_t block_gp_ops;
int block_gp_setup(block_t *b, int capacity);
extern const block_ops_t block_bnb_ops;
int block_bnb_setup(block_t *b, int capacity);
extern const block_ops_t block_nich_ops;
int block_nich_setup(block_t *b, int capacity);
extern const block_ops_t block_niw_ops;
int block_niw_setup(block_t *b, int capacity);
extern const block_ops_t block_dm_ops;
int block_dm_setup(block_t *b, int capacity);
extern const block_ops_t block_bbnc_ops;
int block_bbnc_setup(block_t *b, int capacity);

/* Hyperparameters per feature of each kind (dd: its k levels). */
int block_kind_n_hp(int kind, const block_data_t *data, int j);

/* Whether a kind's cell is a vector (niw, dm: block_data_t cell_width):
 * the glue then gives its width, from the R side's `cell_width` / the
 * model's k or dim, where a scalar kind has 1 (issue 14). */
int block_kind_is_vector(int kind);

/* The operations table of a kind, or NULL for an unknown kind: lets the
 * glue ask which optional ops a kind has. */
const block_ops_t *block_kind_ops(int kind);

#endif

/* What every kind's block shares (block.c): the feature ids, hp_offset and
 * hyperparameters that block_init copies, freed by block_free_common. */
#ifndef MICROSCOPES_BLOCK_UTIL_H
#define MICROSCOPES_BLOCK_UTIL_H

#include "block.h"

/* Frees feature_id, hp_offset and hp; a kind's `free` frees its impl and
 * then calls this. Safe on a block whose init failed. */
void block_free_common(block_t *b);

#endif

/* The theta kernel (datamicroscopes' theta): every group's explicit
 * parameters drawn from their conditional given the group's rows, for the
 * non-conjugate blocks (block.h, draw_slot_parameters; bbnc: the exact
 * Gibbs draw p ~ Beta(alpha + heads, beta + tails)). Groups in the order
 * of the active list, one block after the other, all from the chain's
 * stream. */
#include "kernels.h"
#include "status.h"

int kernel_theta(state_t *st, rng_t *rng) {
    const partition_view_t p = state_view(st);
    for (int b = 0; b < st->n_blocks; b++) {
        block_t *blk = &st->blocks[b];
        if (blk->ops->draw_slot_parameters == NULL) continue;
        for (int j = 0; j < st->n_active; j++)
            blk->ops->draw_slot_parameters(blk, &p, st->active[j], rng);
    }
    return MS_OK;
}

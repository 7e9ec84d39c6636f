/* Pointwise log predictive densities of kept draws for states of any
 * feature models (log_lik.h gives the all-bb path and the definition):
 * for draw t and row i, log p(x_i | z^t, x_{-i}, hp^t), the collapsed
 * predictive of row i's observed cells in its own group with the row left
 * out, summed over every feature block (score_slot_loo). Pure C. */
#ifndef MICROSCOPES_LOG_LIK_BLOCKS_H
#define MICROSCOPES_LOG_LIK_BLOCKS_H

#include "parallel.h"
#include "partition_search.h"
#include "state.h"

/* `specs`: the n_blocks blocks over the data (their hp only sizes the
 * blocks: each draw sets its own). hps: n_draws x hp_width, draw-major,
 * every feature's hp vector in global feature order (draws.h). out[t + i *
 * n_draws]. Each thread builds one state and reuses it draw after draw
 * (set every hp, set_assignment recounts and rebuilds), so a draw's
 * values do not depend on which thread ran it. MS_OK, MS_ERR_NOMEM,
 * MS_ERR_UNSUPPORTED (hp_width does not fit the blocks) or
 * MS_INTERRUPTED. */
int log_lik_blocks_draws(int n, int n_blocks, const block_spec_t *specs,
                         const label_draws_t *draws, const double *hps,
                         int hp_width, int n_threads, double *out,
                         parallel_poll_fn poll, void *poll_ctx);

#endif

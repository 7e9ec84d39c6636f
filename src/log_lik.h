/* Pointwise log predictive densities of the rows under kept draws, for
 * leave-one-out cross-validation (the loo package). Pure C.
 *
 * For draw t and row i: log p(x_i | z^t, x_{-i}, a^t, b^t), the collapsed
 * beta-Bernoulli predictive of row i's observed entries in its own group
 * with row i left out (the prior predictive when the row is alone). Since
 * p(z, x) = p(x_i | z, x_{-i}) p(z, x_{-i}), the posterior mean of
 * 1 / p(x_i | z, x_{-i}) is 1 / p(x_i | x_{-i}): these are the terms that
 * importance-sampling LOO needs (Gelfand 1996; Vehtari, Gelman & Gabry
 * 2017). */
#ifndef MICROSCOPES_LOG_LIK_H
#define MICROSCOPES_LOG_LIK_H

#include "data.h"
#include "parallel.h"
#include "partition_search.h"

/* out[t + i * n_draws]; hps[t * 2D + d] = a_d, [t * 2D + D + d] = b_d.
 * Draws are spread over up to n_threads threads; the pool calls `poll`
 * (may be NULL) on the calling thread. MS_OK, an error, or MS_INTERRUPTED
 * when `poll` asked to stop. */
int log_lik_draws(const data_t *data, const label_draws_t *draws,
                  const double *hps, int n_threads, double *out,
                  parallel_poll_fn poll, void *poll_ctx);

#endif

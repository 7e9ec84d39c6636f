/* parallel_run(): MCMC chains on the worker pool, a chain a unit. Each chain
 * owns its random stream, so the chains do not depend on which thread runs
 * them. A chain checks for a stop request between iterations only, so an
 * interrupted chain is always at the end of a full iteration. */
#include <stddef.h>

#include "parallel.h"
#include "status.h"

typedef struct {
    chain_t **chains;
    int niters;
    int *chain_status, *iterations_done;
    poll_fn poll;           /* the caller's, which also wants the total */
    void *context;
    long total;
} chains_run_t;

static int run_chain(void *ctx, int c, int thread, parallel_pool_t *pool) {
    (void)thread;
    chains_run_t *run = ctx;
    int status = MS_OK;
    for (int it = 0; it < run->niters; it++) {
        if (parallel_stop_requested(pool)) {
            status = MS_INTERRUPTED;
            break;
        }
        status = chain_iterate(run->chains[c]);
        if (status) break;
        run->iterations_done[c]++;
        parallel_add_progress(pool, 1);
    }
    run->chain_status[c] = status;
    return status;
}

static int poll_chains(void *ctx, long iterations_done) {
    chains_run_t *run = ctx;
    return run->poll(run->context, iterations_done, run->total);
}

int parallel_run(chain_t **chains, int n_chains, int niters, int threads,
                 poll_fn poll, void *context, int *chain_status,
                 int *iterations_done) {
    for (int c = 0; c < n_chains; c++) {
        chain_status[c] = MS_OK;
        iterations_done[c] = 0;
    }
    if (n_chains == 0 || niters == 0) return MS_OK;
    chains_run_t run = {chains, niters, chain_status, iterations_done,
                        poll, context, (long)n_chains * niters};
    int pool_status = parallel_for(n_chains, threads, run_chain, &run,
                                   poll ? poll_chains : NULL, &run);

    int first_error = MS_OK;
    for (int c = 0; c < n_chains && first_error == MS_OK; c++)
        if (chain_status[c] != MS_OK && chain_status[c] != MS_INTERRUPTED)
            first_error = chain_status[c];
    /* No chain failed, yet the pool did: it could not start, no chain ran. */
    if (first_error == MS_OK && pool_status == MS_ERR_NOMEM)
        return MS_ERR_NOMEM;
    /* A chain the pool did not start, because of a stop, was stopped early
     * too. */
    for (int c = 0; c < n_chains; c++)
        if (chain_status[c] == MS_OK && iterations_done[c] < niters)
            chain_status[c] = MS_INTERRUPTED;
    return first_error;
}

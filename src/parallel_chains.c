/* parallel_run(): MCMC chains on the worker pool. Work is handed out an
 * iteration at a time: each worker repeatedly takes the free chain with the
 * fewest iterations done and advances it by one, so 5 chains on 2 threads
 * keep both busy to the end instead of leaving one idle for a third round.
 * Each chain owns its random stream and its iterations stay in order, so
 * the chains do not depend on which thread runs them. A chain checks for a
 * stop request between iterations only, so an interrupted chain is always
 * at the end of a full iteration. */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "alloc.h"
#include "parallel.h"
#include "status.h"

typedef struct {
    chain_t **chains;
    int n_chains, niters;
    int *chain_status, *iterations_done;
    char *busy;             /* a worker is advancing the chain; under lock */
    pthread_mutex_t lock;
    poll_fn poll;           /* the caller's, which also wants the total */
    void *context;
    long total;
} chains_run_t;

/* The free, unfinished, healthy chain with the fewest iterations done, or
 * -1 when every unfinished chain is busy (its worker will finish it). */
static int take_chain(chains_run_t *run) {
    int best = -1;
    for (int c = 0; c < run->n_chains; c++) {
        if (run->busy[c] || run->chain_status[c] != MS_OK ||
            run->iterations_done[c] >= run->niters)
            continue;
        if (best < 0 || run->iterations_done[c] < run->iterations_done[best])
            best = c;
    }
    if (best >= 0) run->busy[best] = 1;
    return best;
}

/* One worker: advances chains an iteration at a time until none is left. */
static int run_worker(void *ctx, int unit, int thread, parallel_pool_t *pool) {
    (void)unit;
    (void)thread;
    chains_run_t *run = ctx;
    for (;;) {
        pthread_mutex_lock(&run->lock);
        const int c = take_chain(run);
        pthread_mutex_unlock(&run->lock);
        if (c < 0) return MS_OK;
        int status = parallel_stop_requested(pool) ? MS_INTERRUPTED
                                                   : chain_iterate(run->chains[c]);
        pthread_mutex_lock(&run->lock);
        run->busy[c] = 0;
        if (status == MS_OK) run->iterations_done[c]++;
        else run->chain_status[c] = status;
        pthread_mutex_unlock(&run->lock);
        if (status == MS_INTERRUPTED) return MS_OK;
        if (status) return status;
        parallel_add_progress(pool, 1);
    }
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
    /* `threads` is the run's total: one worker per chain at most, and the
     * threads left over shared among the chains for their insides (more
     * threads than chains: one long chain on many cores). */
    const int inner = threads > n_chains ? threads / n_chains : 1;
    for (int c = 0; c < n_chains; c++) chains[c]->inner_threads = inner;
    if (threads > n_chains) threads = n_chains;
    chains_run_t run = {chains, n_chains, niters, chain_status,
                        iterations_done, ms_calloc((size_t)n_chains, 1)};
    run.poll = poll;
    run.context = context;
    run.total = (long)n_chains * niters;
    if (run.busy == NULL) return MS_ERR_NOMEM;
    if (pthread_mutex_init(&run.lock, NULL) != 0) {
        free(run.busy);
        return MS_ERR_NOMEM;
    }
    int pool_status = parallel_for(threads, threads, run_worker, &run,
                                   poll ? poll_chains : NULL, &run);
    pthread_mutex_destroy(&run.lock);
    free(run.busy);

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

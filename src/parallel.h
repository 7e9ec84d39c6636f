/* The one worker pool of the package: a parallel for over units of work,
 * used for MCMC chains (parallel_chains.c), query tables and row blocks
 * (query_run.c) and co-clustering columns (partition.c).
 *
 * Workers touch only C memory and never call R. While they run, the calling
 * (main) thread only waits, and every ~100 ms or whenever a unit reports
 * progress calls `poll`, which may talk to R (interrupts, progress bars)
 * because it runs on the main thread. Units are taken from a shared
 * counter, so which thread runs a unit depends on timing: a unit's result
 * must depend on the unit alone (e.g. its own random stream), never on the
 * thread that ran it, for results not to depend on the thread count. */
#ifndef MICROSCOPES_PARALLEL_H
#define MICROSCOPES_PARALLEL_H

#include "chain.h"

typedef struct parallel_pool parallel_pool_t;

/* Does unit `unit` of the work. `thread` (in [0, n_threads)) names the
 * worker, so that a unit may use that worker's scratch space. Returns MS_OK
 * or an error status; an error stops the pool. A long unit should check
 * parallel_stop_requested() at points where it can stop cleanly. */
typedef int (*parallel_unit_fn)(void *ctx, int unit, int thread,
                                parallel_pool_t *pool);

/* Main thread only, so it may call R, but it must return: catch R's
 * longjmps (R_ToplevelExec), or the pool's threads and memory are lost.
 * `progress` is the sum of what units reported with parallel_add_progress().
 * Returns nonzero to stop the pool. */
typedef int (*parallel_poll_fn)(void *poll_ctx, long progress);

/* Runs fn(ctx, u, thread, pool) for every u in [0, n_units) on up to
 * n_threads threads. With one thread, or when no thread can be created, the
 * units run on the calling thread, which then polls between units and
 * inside parallel_stop_requested(). `poll` may be NULL; the calling thread
 * is then one of the n_threads and runs units beside the workers (it has
 * nothing to watch), as thread n_threads - 1.
 * Returns MS_OK; else the first error a unit returned; else MS_INTERRUPTED
 * when `poll` asked to stop (some units may not have run); or MS_ERR_NOMEM
 * when the pool's lock could not be made (no unit ran). */
int parallel_for(int n_units, int n_threads, parallel_unit_fn fn, void *ctx,
                 parallel_poll_fn poll, void *poll_ctx);

/* Whether the pool asks running units to stop (a unit failed, or `poll`
 * returned nonzero). Once it does, no further unit is started. */
int parallel_stop_requested(parallel_pool_t *pool);

/* Adds `amount` to the progress that `poll` sees, and wakes the main thread
 * so that it polls at once. */
void parallel_add_progress(parallel_pool_t *pool, long amount);

/* ------------------------------------------------------------------------ */
/* Chains on the pool (parallel_chains.c). A chain stops only between
 * iterations, so a stopped chain is always at the end of a full iteration. */

/* Progress of a run of chains: iterations done, of `total`. Returns nonzero
 * to ask the chains to stop. */
typedef int (*poll_fn)(void *context, long iterations_done, long total);

/* Runs `niters` iterations of each chain with at most `threads` workers.
 * chain_status[c] receives the status of chain c (MS_OK, an error, or
 * MS_INTERRUPTED when it was stopped early); iterations_done[c] how many
 * iterations it completed. Returns MS_OK or the first error status. */
int parallel_run(chain_t **chains, int n_chains, int niters, int threads,
                 poll_fn poll, void *context, int *chain_status,
                 int *iterations_done);

#endif

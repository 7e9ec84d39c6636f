/* Runs independent chains on a pool of worker threads. Workers touch only C
 * memory; the calling (main) thread waits, and every ~100 ms or whenever an
 * iteration completes calls `poll`, which may talk to R (interrupts,
 * progress) because it runs on the main thread. A chain stops only between
 * iterations, so a stopped chain is always at the end of a full iteration. */
#ifndef MICROSCOPES_PARALLEL_H
#define MICROSCOPES_PARALLEL_H

#include "chain.h"

/* Returns nonzero to ask the workers to stop. */
typedef int (*poll_fn)(void *context, long iterations_done, long total);

/* Runs `niters` iterations of each chain with at most `threads` workers.
 * chain_status[c] receives the status of chain c (MS_OK, an error, or
 * MS_INTERRUPTED when it was stopped early); iterations_done[c] how many
 * iterations it completed. Returns MS_OK or the first error status. */
int parallel_run(chain_t **chains, int n_chains, int niters, int threads,
                 poll_fn poll, void *context, int *chain_status,
                 int *iterations_done);

#endif

/* One Markov chain: a state, its own random stream, its kernels, scratch
 * space and a trace of per-iteration summaries. Pure C: chains run in worker
 * threads (parallel.c). */
#ifndef MICROSCOPES_CHAIN_H
#define MICROSCOPES_CHAIN_H

#include "data.h"
#include "kernels.h"
#include "rng.h"
#include "state.h"

typedef struct {
    const data_t *data;     /* shared, read-only */
    state_t state;
    rng_t rng;
    /* The prior over partitions: the CRP (zeroed, as chain_init leaves
     * it) or a finite mixture of `groups` groups (partition_prior.h). */
    partition_prior_t partition_prior;
    kernel_t *kernels;      /* owned */
    int n_kernels;
    workspace_t ws;

    /* Trace, one entry per completed iteration. */
    int trace_length, trace_capacity;
    int *trace_groups;
    double *trace_alpha, *trace_log_joint;
    int *trace_split_merge;     /* 4 per iteration: split_merge_counts_t */
    split_merge_counts_t split_merge_counts;    /* of the current iteration */

    double kernel_seconds[N_KERNEL_KINDS];  /* time spent, for benchmarks */

    /* Iterations of the chain before this runner (from a checkpoint): the
     * chain's iteration count is iterations_before + trace_length. */
    long iterations_before;
    /* Nonzero (a status) once a kernel failed in a way that leaves no
     * state to go on from (a numerical failure mid-iteration): the chain
     * refuses to run again. An out-of-memory failure stops the chain
     * before the move that needed memory, so it may go on. */
    int failed;
    /* Optional recorder of kept draws (draws.h, dpmixture()), owned; it
     * sees the state after each iteration's trace entry. */
    struct draws *recorder;
    /* Threads the chain may use inside an iteration, out of a run's total
     * (parallel_run sets it; <= 1: one). Kernels whose results do not
     * depend on their thread count use them: today the hyperparameter
     * updates of beta-Bernoulli features, each on its own stream. */
    int inner_threads;
} chain_t;

/* Takes ownership of `kernels` (also on failure). The state must already be
 * initialised and assigned; seeds the stream. */
int chain_init(chain_t *chain, const data_t *data, state_t *state,
               kernel_t *kernels, int n_kernels, uint64_t seed);
void chain_free(chain_t *chain);
void kernels_free(kernel_t *kernels, int n_kernels);

/* One iteration: compaction of the state's slots when they have spread
 * (state_group.h), every kernel once, in order, then a trace entry. On
 * failure the state is still a valid partition: MS_ERR_NOMEM stops the
 * chain before a move (the trace's room is reserved before the first
 * kernel, a new group's slot before its row moves); MS_ERR_NUMERIC marks
 * the chain failed. */
int chain_iterate(chain_t *chain);

/* log p(partition, data | hyperparameters): the partition prior's term
 * (CRP or finite mixture) plus the data. */
double chain_log_joint(const chain_t *chain);

#endif

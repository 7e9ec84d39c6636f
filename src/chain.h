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
    kernel_t *kernels;      /* owned */
    int n_kernels;
    workspace_t ws;

    /* Trace, one entry per completed iteration. */
    int trace_length, trace_capacity;
    int *trace_groups;
    double *trace_alpha, *trace_log_joint;

    double kernel_seconds[N_KERNEL_KINDS];  /* time spent, for benchmarks */

    /* Optional recorder of kept draws (draws.h, dpmixture()), owned; it
     * sees the state after each iteration's trace entry. */
    struct draws *recorder;
} chain_t;

/* Takes ownership of `kernels` (also on failure). The state must already be
 * initialised and assigned; seeds the stream. */
int chain_init(chain_t *chain, const data_t *data, state_t *state,
               kernel_t *kernels, int n_kernels, uint64_t seed);
void chain_free(chain_t *chain);
void kernels_free(kernel_t *kernels, int n_kernels);

/* One iteration: every kernel once, in order, then a trace entry. On
 * failure the state is still a valid partition. */
int chain_iterate(chain_t *chain);

/* log p(partition, data | hyperparameters): the CRP term plus the data. */
double chain_log_joint(const chain_t *chain);

#endif

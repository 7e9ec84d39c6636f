/* Pointwise log predictive densities through the feature blocks
 * (log_lik_blocks.h). */
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "log_lik_blocks.h"
#include "status.h"

typedef struct {
    int n, n_blocks, hp_width, n_threads;
    const block_spec_t *specs;
    const label_draws_t *draws;
    const double *hps;
    double *out;
    state_t *states;        /* one per thread, built on first use */
    int *ready;
    int **slots;            /* per thread: n labels of a draw */
    int *hp_start;          /* D + 1: feature d's hp in a draw's row */
} log_lik_blocks_job_t;

static int thread_state(log_lik_blocks_job_t *job, int thread) {
    if (job->ready[thread]) return MS_OK;
    state_t *st = &job->states[thread];
    /* Room for every row alone plus the ghost: no draw needs to grow it. */
    int status = state_init(st, job->n, 1.0, job->n + 1, job->n_blocks, job->specs);
    if (status != MS_OK) return status;
    job->slots[thread] = ms_malloc(sizeof(int) * ((size_t)job->n + 1));
    if (job->slots[thread] == NULL) return MS_ERR_NOMEM;
    job->ready[thread] = 1;
    return MS_OK;
}

static int log_lik_blocks_unit(void *ctx, int t, int thread, parallel_pool_t *pool) {
    (void)pool;
    log_lik_blocks_job_t *job = ctx;
    int status = thread_state(job, thread);
    if (status != MS_OK) return status;
    state_t *st = &job->states[thread];
    int *slots = job->slots[thread];
    const double *hp = job->hps + (size_t)t * (size_t)job->hp_width;
    for (int d = 0; d < st->D; d++) state_set_feature_hp(st, d, hp + job->hp_start[d]);
    for (int i = 0; i < job->n; i++) slots[i] = label_draws_get(job->draws, t, i);
    /* Recounts every block and rebuilds its tables under the draw's hp. */
    status = state_set_assignment(st, NULL, slots);
    if (status != MS_OK) return status;
    const int S = job->draws->n_draws;
    for (int i = 0; i < job->n; i++)
        job->out[t + (size_t)i * S] = state_score_row_loo(st, NULL, i);
    return MS_OK;
}

int log_lik_blocks_draws(int n, int n_blocks, const block_spec_t *specs,
                         const label_draws_t *draws, const double *hps,
                         int hp_width, int n_threads, double *out,
                         parallel_poll_fn poll, void *poll_ctx) {
    if (n_threads < 1) n_threads = 1;
    if (n_threads > draws->n_draws) n_threads = draws->n_draws > 0 ? draws->n_draws : 1;
    int D = 0;
    for (int b = 0; b < n_blocks; b++) D += specs[b].data.n_features;
    log_lik_blocks_job_t job = {n, n_blocks, hp_width, n_threads, specs, draws, hps,
                                out, NULL, NULL, NULL, NULL};
    job.states = ms_calloc((size_t)n_threads, sizeof(state_t));
    job.ready = ms_calloc((size_t)n_threads, sizeof(int));
    job.slots = ms_calloc((size_t)n_threads, sizeof(int *));
    job.hp_start = ms_malloc(sizeof(int) * ((size_t)D + 1));
    int status = job.states && job.ready && job.slots && job.hp_start ? MS_OK : MS_ERR_NOMEM;
    if (status == MS_OK) {
        /* Feature d's hp length from its block's offsets; the draws lay
         * the vectors out in global feature order. */
        int *length = job.hp_start;
        for (int b = 0; b < n_blocks; b++)
            for (int j = 0; j < specs[b].data.n_features; j++)
                length[specs[b].feature_id[j]] =
                    specs[b].hp_offset[j + 1] - specs[b].hp_offset[j];
        int at = 0;
        for (int d = 0; d < D; d++) {
            const int len = length[d];
            length[d] = at;
            at += len;
        }
        job.hp_start[D] = at;
        if (at != hp_width) status = MS_ERR_UNSUPPORTED;
    }
    if (status == MS_OK && draws->n_draws > 0)
        status = parallel_for(draws->n_draws, n_threads, log_lik_blocks_unit, &job,
                              poll, poll_ctx);
    /* state_init zeroes first: a state never built, or whose build failed
     * midway, is safe to free. */
    if (job.states)
        for (int k = 0; k < n_threads; k++) state_free(&job.states[k]);
    if (job.slots)
        for (int k = 0; k < n_threads; k++) free(job.slots[k]);
    free(job.states);
    free(job.ready);
    free(job.slots);
    free(job.hp_start);
    return status;
}

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "alloc.h"
#include "chain.h"
#include "draws.h"
#include "score.h"
#include "state_group.h"
#include "status.h"

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void kernels_free(kernel_t *kernels, int n_kernels) {
    if (kernels == NULL) return;
    for (int j = 0; j < n_kernels; j++) {
        free(kernels[j].features);
        free(kernels[j].grid_a);
        free(kernels[j].grid_b);
        free(kernels[j].grid_log_weight);
    }
    free(kernels);
}

static int workspace_init(workspace_t *ws, int n, const kernel_t *kernels,
                          int n_kernels) {
    int size = n + 1, auxiliary = 0;
    for (int j = 0; j < n_kernels; j++) {
        if (kernels[j].n_grid > size) size = kernels[j].n_grid;
        if (kernels[j].n_auxiliary > auxiliary)
            auxiliary = kernels[j].n_auxiliary;
    }
    /* Algorithm 8 offers the groups and its auxiliary ones. */
    if (n + 1 + auxiliary > size) size = n + 1 + auxiliary;
    ws->size = size;
    ws->order = ms_malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    ws->candidates = ms_malloc((size_t)size * sizeof(int));
    ws->aux_scores = ms_malloc((size_t)(auxiliary + 1) * sizeof(double));
    ws->heads_of_feature = ms_malloc((size_t)(n + 1) * sizeof(int));
    ws->tails_of_feature = ms_malloc((size_t)(n + 1) * sizeof(int));
    ws->log_weights = ms_malloc((size_t)size * sizeof(double));
    ws->weights = ms_malloc((size_t)size * sizeof(double));
    ws->log_int = ms_malloc((size_t)(n + 1) * sizeof(double));
    ws->log_join = ms_malloc((size_t)(n + 1) * sizeof(double));
    if (!ws->order || !ws->candidates || !ws->heads_of_feature ||
        !ws->tails_of_feature || !ws->log_weights || !ws->weights ||
        !ws->log_int || !ws->log_join || !ws->aux_scores)
        return MS_ERR_NOMEM;
    for (int c = 0; c <= n; c++) ws->log_int[c] = log((double)c);
    return MS_OK;
}

static void workspace_free(workspace_t *ws) {
    free(ws->order);
    free(ws->candidates);
    free(ws->heads_of_feature);
    free(ws->tails_of_feature);
    free(ws->log_weights);
    free(ws->weights);
    free(ws->log_int);
    free(ws->log_join);
    free(ws->aux_scores);
    memset(ws, 0, sizeof(*ws));
}

int chain_init(chain_t *chain, const data_t *data, state_t *state,
               kernel_t *kernels, int n_kernels, uint64_t seed) {
    memset(chain, 0, sizeof(*chain));
    chain->data = data;
    chain->state = *state;
    chain->kernels = kernels;
    chain->n_kernels = n_kernels;
    rng_seed(&chain->rng, seed);
    return workspace_init(&chain->ws, data->n, kernels, n_kernels);
}

void chain_free(chain_t *chain) {
    state_free(&chain->state);
    kernels_free(chain->kernels, chain->n_kernels);
    workspace_free(&chain->ws);
    free(chain->trace_groups);
    free(chain->trace_alpha);
    free(chain->trace_log_joint);
    free(chain->trace_split_merge);
    draws_free(chain->recorder);
    memset(chain, 0, sizeof(*chain));
}

/* Below this many feature-group pairs an update of every feature's
 * hyperparameters takes well under a millisecond, less than starting
 * threads costs, so the chain's inner threads are left idle: the results
 * are the same either way (one stream per feature). The log joint's data
 * term, a few log Gamma values per pair, follows the same rule. */
#define FEATURE_HP_PAIRS_PER_THREAD 4096

/* The chain's inner threads that work over `pairs` feature-group pairs
 * pays for, at least `threads`. */
static int threads_for_pairs(const chain_t *chain, long pairs, int threads) {
    if (chain->inner_threads > threads) {
        long useful = pairs / FEATURE_HP_PAIRS_PER_THREAD;
        if (useful > chain->inner_threads) useful = chain->inner_threads;
        if (useful > threads) threads = (int)useful;
    }
    return threads;
}

double chain_log_joint(const chain_t *chain) {
    const state_t *st = &chain->state;
    const int threads =
        threads_for_pairs(chain, (long)st->D * (st->n_active + 1), 1);
    const double score = state_data_log_marginal_threaded(
        st, chain->ws.heads_of_feature, chain->ws.tails_of_feature, threads);
    for (int j = 0; j < st->n_active; j++)
        chain->ws.heads_of_feature[j] = st->size[st->active[j]];
    return score + partition_log_prior(&chain->partition_prior,
                                       chain->ws.heads_of_feature,
                                       st->n_active, st->n, st->alpha);
}

/* Room for one more trace entry, made before an iteration starts so that a
 * failed allocation stops the chain before its state moves. A partial
 * failure leaves the arrays that did grow valid and owned. */
static int trace_reserve(chain_t *chain) {
    if (chain->trace_length < chain->trace_capacity) return MS_OK;
    int cap = chain->trace_capacity ? 2 * chain->trace_capacity : 64;
    int *groups = ms_realloc(chain->trace_groups, (size_t)cap * sizeof(int));
    if (groups) chain->trace_groups = groups;
    double *alpha = ms_realloc(chain->trace_alpha, (size_t)cap * sizeof(double));
    if (alpha) chain->trace_alpha = alpha;
    double *joint =
        ms_realloc(chain->trace_log_joint, (size_t)cap * sizeof(double));
    if (joint) chain->trace_log_joint = joint;
    int *split_merge =
        ms_realloc(chain->trace_split_merge, (size_t)cap * 4 * sizeof(int));
    if (split_merge) chain->trace_split_merge = split_merge;
    if (!groups || !alpha || !joint || !split_merge) return MS_ERR_NOMEM;
    chain->trace_capacity = cap;
    return MS_OK;
}

/* The log joint is finite for every valid state (alpha, a and b finite and
 * > 0), so a non-finite one is a numerical failure: caught here, once per
 * iteration, where it costs nothing extra. */
static int trace_append(chain_t *chain) {
    const double log_joint = chain_log_joint(chain);
    if (!isfinite(log_joint)) return MS_ERR_NUMERIC;
    const int t = chain->trace_length++;
    chain->trace_groups[t] = chain->state.n_active;
    chain->trace_alpha[t] = chain->state.alpha;
    chain->trace_log_joint[t] = log_joint;
    const split_merge_counts_t *c = &chain->split_merge_counts;
    int *counts = chain->trace_split_merge + (size_t)t * 4;
    counts[0] = c->split_proposed;
    counts[1] = c->split_accepted;
    counts[2] = c->merge_proposed;
    counts[3] = c->merge_accepted;
    memset(&chain->split_merge_counts, 0, sizeof(chain->split_merge_counts));
    return MS_OK;
}

/* The threads of a feature-hyperparameter kernel: those the kernel asks
 * for itself (bench/large_k.R) or, when the work pays for them, the
 * chain's share of the run's threads. */
static int feature_hp_threads(const chain_t *chain, const kernel_t *kernel) {
    return threads_for_pairs(
        chain, (long)kernel->n_features * (chain->state.n_active + 1),
        kernel->threads > 1 ? kernel->threads : 1);
}

int chain_iterate(chain_t *chain) {
    if (chain->failed) return chain->failed;
    /* Counts of an iteration that failed before its trace entry do not
     * belong to the next one. */
    memset(&chain->split_merge_counts, 0, sizeof(chain->split_merge_counts));
    int reserved = trace_reserve(chain);
    if (reserved != MS_OK) return reserved;
    /* Relabelling keeps the order of groups, so draws do not change. */
    if (state_needs_compaction(&chain->state)) state_compact(&chain->state);
    for (int j = 0; j < chain->n_kernels; j++) {
        const kernel_t *kernel = &chain->kernels[j];
        const double start = now_seconds();
        int status = MS_OK;
        switch (kernel->kind) {
        case KERNEL_ASSIGN:
        case KERNEL_ASSIGN_FIXED: {
            /* The collapsed sweep has no move for explicit parameters
             * (the R side says so first, naming assign_resample). */
            if (state_has_nonconjugate(&chain->state)) {
                status = MS_ERR_UNSUPPORTED;
                break;
            }
            chain->ws.threads = chain->inner_threads;
            partition_prior_t prior = chain->partition_prior;
            prior.test_wrong = kernel->test_wrong_prior;
            status = kernel_assign(&chain->state, chain->data, &chain->rng,
                                   &chain->ws, &prior);
            break;
        }
        case KERNEL_ASSIGN_RESAMPLE:
            status = kernel_assign_resample(&chain->state, kernel, &chain->rng,
                                            &chain->ws, &chain->partition_prior);
            break;
        case KERNEL_THETA:
            status = kernel_theta(&chain->state, &chain->rng);
            break;
        case KERNEL_SLICE_CLUSTER_HP:
            status = kernel_slice_cluster_hp(&chain->state, kernel, &chain->rng,
                                             &chain->partition_prior);
            break;
        case KERNEL_SLICE_FEATURE_HP: {
            kernel_t spread = *kernel;
            spread.threads = feature_hp_threads(chain, kernel);
            status = kernel_slice_feature_hp(&chain->state, &spread,
                                             &chain->rng, &chain->ws);
            break;
        }
        case KERNEL_GRID_FEATURE_HP:
            status = kernel_grid_feature_hp(&chain->state, kernel, &chain->rng,
                                            &chain->ws);
            break;
        case KERNEL_SPLIT_MERGE:
            status = kernel_split_merge(&chain->state, chain->data, kernel,
                                        &chain->rng, &chain->ws,
                                        &chain->partition_prior,
                                        &chain->split_merge_counts);
            break;
        }
        chain->kernel_seconds[kernel->kind] += now_seconds() - start;
#ifdef MICROSCOPES_DEBUG
        /* Debug builds (PKG_CPPFLAGS=-DMICROSCOPES_DEBUG) audit the scores
         * after every kernel; release builds once per iteration, in
         * trace_append(), where the log joint is computed anyway. */
        if (status == MS_OK && !isfinite(chain_log_joint(chain)))
            status = MS_ERR_NUMERIC;
#endif
        if (status == MS_ERR_NUMERIC) chain->failed = status;
        if (status) return status;
    }
    /* Latent cells (niw rows partly missing, block.h): one Gibbs update
     * per iteration, after the kernels, so that the trace's log joint and
     * a saved state are those of the values the next sweep starts from.
     * Blocks without latent cells draw nothing. */
    state_t *st = &chain->state;
    for (int b = 0; b < st->n_blocks; b++) {
        block_t *blk = &st->blocks[b];
        if (blk->ops->resample_latent == NULL) continue;
        const partition_view_t p = state_view(st);
        const int latent = blk->ops->resample_latent(blk, &p, &chain->rng);
        if (latent != MS_OK) {
            chain->failed = latent;
            return latent;
        }
    }
    int status = trace_append(chain);
    if (status == MS_OK && chain->recorder != NULL)
        status = draws_record(chain->recorder, &chain->state,
                              chain->trace_log_joint[chain->trace_length - 1]);
    /* The state has moved: a failure here (a non-finite log joint, or no
     * memory for the draw) leaves a trace or draws that no longer match it,
     * so the chain refuses to go on. */
    if (status) chain->failed = status;
    return status;
}

/* .Call glue for runners: a runner owns one chain (C memory behind an
 * external pointer with a finalizer); its data are the vectors of the
 * dataview, kept alive through the pointer's protected slot. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "r_glue.h"
#include "block_bb.h"
#include "chain.h"
#include "parallel.h"
#include "r_blocks.h"
#include "status.h"

void data_from_view(SEXP view, data_t *data);

typedef struct {
    data_t data;
    chain_t chain;
} runner_t;

static void runner_finalize(SEXP ptr) {
    runner_t *runner = R_ExternalPtrAddr(ptr);
    if (runner == NULL) return;
    chain_free(&runner->chain);
    free(runner);
    R_ClearExternalPtr(ptr);
}

static runner_t *runner_of(SEXP ptr) {
    if (TYPEOF(ptr) != EXTPTRSXP || R_ExternalPtrAddr(ptr) == NULL)
        Rf_error("`r` has no sampler behind it (a runner saved with saveRDS "
                 "cannot be restored); make a new one with runner() from "
                 "get_latent().");
    return R_ExternalPtrAddr(ptr);
}

/* Checks one kernel description (a list made by R/kernels.R), raising R
 * errors; nothing is allocated yet, so nothing can leak. */
static void kernel_validate(SEXP spec, int D, int groups) {
    const char *what = "kernel_config";
    if (TYPEOF(spec) != VECSXP)
        Rf_error("`kernel_config` must be a list of kernels.");
    int kind = list_get_int(spec, "kind", what);
    if (kind < 0 || kind >= N_KERNEL_KINDS)
        Rf_error("`kernel_config` has a kernel of unknown kind %d.", kind);
    if (kind == KERNEL_ASSIGN && groups > 0)
        Rf_error("`kernel_config`: assign_kernel() samples a Dirichlet "
                 "process mixture; a finite mixture (fixed_model_definition()) "
                 "needs assign_fixed_kernel().");
    if (kind == KERNEL_ASSIGN_FIXED && groups == 0)
        Rf_error("`kernel_config`: assign_fixed_kernel() samples a finite "
                 "mixture; a Dirichlet process mixture (model_definition()) "
                 "needs assign_kernel().");
    if (kind == KERNEL_ASSIGN_FIXED) {
        const int wrong = list_get_int(spec, "test_wrong_prior", what);
        if (wrong != PARTITION_TEST_EXACT &&
            wrong != PARTITION_TEST_DROP_EMPTY_LABELS)
            Rf_error("`kernel_config`: unknown `test_wrong_prior` %d.", wrong);
    }
    if (kind == KERNEL_ASSIGN_RESAMPLE) {
        const int m = list_get_int(spec, "auxiliary", what);
        if (m < 1 || m > ASSIGN_RESAMPLE_MAX_AUXILIARY)
            Rf_error("`kernel_config`: `m` (auxiliary groups) must be between "
                     "1 and %d.", ASSIGN_RESAMPLE_MAX_AUXILIARY);
        const int wrong = list_get_int(spec, "test_wrong_auxiliary", what);
        if (wrong < RESAMPLE_TEST_EXACT || wrong > RESAMPLE_TEST_NO_REUSE)
            Rf_error("`kernel_config`: unknown `test_wrong_auxiliary` %d.", wrong);
    }
    if (!(list_get_double(spec, "width", what) > 0))
        Rf_error("`kernel_config`: `width` must be > 0.");
    SEXP prior = list_get(spec, "prior");
    list_get_int(prior, "kind", what);
    const char *params[] = {"shape", "rate", "lower", "upper"};
    for (int j = 0; j < 4; j++) list_get_double(prior, params[j], what);
    SEXP features = list_get(spec, "features");
    if (TYPEOF(features) != INTSXP)
        Rf_error("`kernel_config`: `features` must be an integer vector.");
    for (R_xlen_t j = 0; j < XLENGTH(features); j++) {
        int d = INTEGER(features)[j];
        if (d == NA_INTEGER || d < 1 || d > D)
            Rf_error("`kernel_config`: feature %d is not between 1 and %d.", d, D);
    }
    if (kind == KERNEL_SPLIT_MERGE) {
        const int proposals = list_get_int(spec, "proposals", what);
        if (proposals < 0 || proposals > SPLIT_MERGE_MAX_PROPOSALS)
            Rf_error("`kernel_config`: `proposals` must be between 0 and %d.",
                     SPLIT_MERGE_MAX_PROPOSALS);
        const int method = list_get_int(spec, "method", what);
        if (method < SPLIT_MERGE_SAMS || method > SPLIT_MERGE_SEQUENTIAL_LAUNCH)
            Rf_error("`kernel_config`: unknown split-merge method %d.", method);
        const int scans = list_get_int(spec, "launch_scans", what);
        if (scans < 0 || scans > SPLIT_MERGE_MAX_LAUNCH_SCANS)
            Rf_error("`kernel_config`: `launch_scans` must be between 0 and %d.",
                     SPLIT_MERGE_MAX_LAUNCH_SCANS);
        list_get_int(spec, "test_drop_proposal", what);
    }
    SEXP grid = list_get(spec, "grid");
    if (kind == KERNEL_GRID_FEATURE_HP &&
        (TYPEOF(grid) != REALSXP || !Rf_isMatrix(grid) || Rf_ncols(grid) != 3 ||
         Rf_nrows(grid) < 1))
        Rf_error("`kernel_config`: a grid must be a numeric matrix with "
                 "columns alpha, beta and log_weight.");
}

/* Fills a kernel from a validated description; may only fail for memory. */
static int kernel_build(SEXP spec, kernel_t *kernel) {
    memset(kernel, 0, sizeof(*kernel));
    kernel->kind = Rf_asInteger(list_get(spec, "kind"));
    kernel->width = Rf_asReal(list_get(spec, "width"));
    /* Internal (bench/large_k.R): threads inside the chain; absent = 1. */
    SEXP threads = list_get(spec, "threads");
    kernel->threads = Rf_isNull(threads) ? 1 : Rf_asInteger(threads);
    /* Absent (a kernel made before 0.5.0, read back from a file): the
     * linear scale, so that it runs the chain it ran then. */
    SEXP log_scale = list_get(spec, "log_scale");
    kernel->log_scale = Rf_isNull(log_scale) ? 0 : Rf_asLogical(log_scale) == TRUE;
    SEXP prior = list_get(spec, "prior");
    kernel->prior.kind = Rf_asInteger(list_get(prior, "kind"));
    kernel->prior.shape = Rf_asReal(list_get(prior, "shape"));
    kernel->prior.rate = Rf_asReal(list_get(prior, "rate"));
    kernel->prior.lower = Rf_asReal(list_get(prior, "lower"));
    kernel->prior.upper = Rf_asReal(list_get(prior, "upper"));
    SEXP features = list_get(spec, "features");
    kernel->n_features = (int)XLENGTH(features);
    kernel->features = malloc((size_t)(kernel->n_features + 1) * sizeof(int));
    if (kernel->features == NULL) return MS_ERR_NOMEM;
    for (int j = 0; j < kernel->n_features; j++)
        kernel->features[j] = INTEGER(features)[j] - 1;
    if (kernel->kind == KERNEL_SPLIT_MERGE) {
        kernel->n_proposals = Rf_asInteger(list_get(spec, "proposals"));
        kernel->method = Rf_asInteger(list_get(spec, "method"));
        kernel->launch_scans = Rf_asInteger(list_get(spec, "launch_scans"));
        kernel->test_drop_proposal =
            Rf_asInteger(list_get(spec, "test_drop_proposal"));
    }
    if (kernel->kind == KERNEL_ASSIGN_RESAMPLE) {
        kernel->n_auxiliary = Rf_asInteger(list_get(spec, "auxiliary"));
        kernel->test_wrong_auxiliary =
            Rf_asInteger(list_get(spec, "test_wrong_auxiliary"));
    }
    if (kernel->kind == KERNEL_ASSIGN_FIXED)
        kernel->test_wrong_prior =
            Rf_asInteger(list_get(spec, "test_wrong_prior"));
    if (kernel->kind == KERNEL_GRID_FEATURE_HP) {
        SEXP grid = list_get(spec, "grid");
        const int G = kernel->n_grid = Rf_nrows(grid);
        kernel->grid_a = malloc((size_t)G * sizeof(double));
        kernel->grid_b = malloc((size_t)G * sizeof(double));
        kernel->grid_log_weight = malloc((size_t)G * sizeof(double));
        if (!kernel->grid_a || !kernel->grid_b || !kernel->grid_log_weight)
            return MS_ERR_NOMEM;
        memcpy(kernel->grid_a, REAL(grid), G * sizeof(double));
        memcpy(kernel->grid_b, REAL(grid) + G, G * sizeof(double));
        memcpy(kernel->grid_log_weight, REAL(grid) + 2 * G, G * sizeof(double));
    }
    return MS_OK;
}

/* Returns the kernels, or NULL when memory ran out (nothing left allocated). */
static kernel_t *kernels_build(SEXP config) {
    const int K = (int)XLENGTH(config);
    kernel_t *kernels = calloc((size_t)(K > 0 ? K : 1), sizeof(kernel_t));
    if (kernels == NULL) return NULL;
    for (int j = 0; j < K; j++) {
        if (kernel_build(VECTOR_ELT(config, j), &kernels[j])) {
            kernels_free(kernels, j + 1);
            return NULL;
        }
    }
    return kernels;
}

/* A chain's stream as 32 bytes, little-endian whatever the platform, so
 * that a saved state resumes the same stream anywhere. */
static void stream_to_bytes(const rng_t *rng, Rbyte *bytes) {
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 8; b++)
            bytes[8 * i + b] = (Rbyte)((rng->s[i] >> (8 * b)) & 0xff);
}

static void stream_from_bytes(rng_t *rng, const Rbyte *bytes) {
    for (int i = 0; i < 4; i++) {
        rng->s[i] = 0;
        for (int b = 0; b < 8; b++)
            rng->s[i] |= (uint64_t)bytes[8 * i + b] << (8 * b);
    }
}

/* What a saved state adds for an exact resume (R/state.R, format 2). */
typedef struct {
    const Rbyte *stream;    /* 32 bytes, or NULL: a fresh stream */
    double iteration;
    const int *active_order;    /* group ids (1-based), or NULL */
    int n_order;
    int ghost;              /* 1-based slot, or 0 */
} checkpoint_t;

static void checkpoint_read(SEXP checkpoint, int n, checkpoint_t *cp) {
    memset(cp, 0, sizeof(*cp));
    if (checkpoint == R_NilValue) return;
    if (TYPEOF(checkpoint) != VECSXP)
        Rf_error("`latent`: its checkpoint must be a list.");
    SEXP stream = list_get(checkpoint, "rng");
    if (stream != R_NilValue) {
        if (TYPEOF(stream) != RAWSXP || XLENGTH(stream) != 32)
            Rf_error("`latent`: its random stream `rng` must be 32 raw bytes; "
                     "give it a fresh one with reseed().");
        int nonzero = 0;
        for (int j = 0; j < 32; j++) nonzero |= RAW(stream)[j];
        if (!nonzero)
            Rf_error("`latent`: its random stream `rng` is all zeros, which "
                     "is no stream; give it a fresh one with reseed().");
        cp->stream = RAW(stream);
    }
    cp->iteration = list_get_double(checkpoint, "iteration", "`latent`");
    if (!(cp->iteration >= 0 && cp->iteration <= 1e15) ||
        cp->iteration != floor(cp->iteration))
        Rf_error("`latent`: its `iteration` must be a whole number >= 0.");
    SEXP order = list_get(checkpoint, "active_order");
    if (order != R_NilValue) {
        if (TYPEOF(order) != INTSXP || XLENGTH(order) > n)
            Rf_error("`latent`: its `active_order` must be group ids.");
        cp->active_order = INTEGER(order);
        cp->n_order = (int)XLENGTH(order);
        cp->ghost = list_get_int(checkpoint, "ghost", "`latent`");
        if (cp->ghost < 1 || cp->ghost > n + LABEL_SLACK + 1)
            Rf_error("`latent`: its `ghost` must lie between 1 and %d.",
                     n + LABEL_SLACK + 1);
        for (int j = 0; j < cp->n_order; j++)
            if (cp->active_order[j] == NA_INTEGER || cp->active_order[j] < 1 ||
                cp->active_order[j] > n + LABEL_SLACK)
                Rf_error("`latent`: its `active_order` must be group ids.");
    }
}

SEXP C_runner_new(SEXP view, SEXP assignment, SEXP alpha, SEXP hps,
                  SEXP kernel_config, SEXP checkpoint, SEXP n_fixed_groups) {
    /* A dataview (all bb: today's path) or a list of packed blocks, with
     * per-block hyperparameters (CONTRACT.md). */
    data_t data;
    packed_blocks_t blocks;
    const int from_blocks = blocks_is_list(view);
    if (from_blocks) {
        blocks_read(view, hps, &blocks);
        /* The runner's data_t is the bb block's (its D counts the bb
         * features only); without one, just the rows. */
        if (blocks.has_bb) {
            data = blocks.bb_data;
        } else {
            memset(&data, 0, sizeof(data));
            data.n = blocks.n;
        }
    } else {
        data_from_view(view, &data);
        if (TYPEOF(hps) != REALSXP || Rf_nrows(hps) != data.D || Rf_ncols(hps) != 2)
            Rf_error("`latent`: feature hyperparameters must be a %d x 2 matrix.",
                     data.D);
    }
    /* 0 for a Dirichlet process mixture, K for a finite mixture. */
    const int groups = Rf_asInteger(n_fixed_groups);
    if (groups == NA_INTEGER || groups < 0)
        Rf_error("`defn`: its number of groups must be a whole number >= 1.");
    if (TYPEOF(assignment) != INTSXP || XLENGTH(assignment) != data.n)
        Rf_error("`latent`: assignments must be an integer vector of length %d.",
                 data.n);
    if (TYPEOF(alpha) != REALSXP || XLENGTH(alpha) != 1 || !(REAL(alpha)[0] > 0) ||
        !(REAL(alpha)[0] <= MS_MAX_HYPERPARAMETER))
        Rf_error("`latent`: alpha must be a single number > 0 and <= 1e15.");
    if (TYPEOF(kernel_config) != VECSXP)
        Rf_error("`kernel_config` must be a list of kernels.");
    const int *labels = INTEGER(assignment);
    int max_label = 0;
    for (int i = 0; i < data.n; i++) {
        if (labels[i] == NA_INTEGER || labels[i] < 1 ||
            labels[i] > data.n + LABEL_SLACK)
            Rf_error("`latent`: group labels must lie between 1 and %d.",
                     data.n + LABEL_SLACK);
        if (labels[i] > max_label) max_label = labels[i];
    }
    if (groups > 0) {
        int *seen = (int *)R_alloc((size_t)data.n + 1, sizeof(int));
        memset(seen, 0, ((size_t)data.n + 1) * sizeof(int));
        int n_groups = 0;
        for (int i = 0; i < data.n; i++)
            if (!seen[labels[i]]++) n_groups++;
        if (n_groups > groups)
            Rf_error("`latent` has %d groups, more than the %d of the finite "
                     "mixture.", n_groups, groups);
    }
    const double *hp = from_blocks ? NULL : REAL(hps);
    for (int j = 0; !from_blocks && j < 2 * data.D; j++)
        if (!(hp[j] > 0) || !(hp[j] <= MS_MAX_HYPERPARAMETER))
            Rf_error("`latent`: feature hyperparameters must be > 0 and <= 1e15.");

    const int D = from_blocks ? blocks.D : data.D;  /* every feature */
    for (R_xlen_t j = 0; j < XLENGTH(kernel_config); j++)
        kernel_validate(VECTOR_ELT(kernel_config, j), D, groups);

    checkpoint_t cp;
    checkpoint_read(checkpoint, data.n, &cp);
    /* A saved stream resumes; otherwise a fresh one from R's RNG (the same
     * two draws as ever, so set.seed() gives the chains it always gave). */
    uint64_t seed = 0;
    if (cp.stream == NULL) {
        GetRNGstate();
        seed = seed_from_r();
        PutRNGstate();
    }
    int capacity = max_label + 2;
    if (cp.ghost + 1 > capacity) capacity = cp.ghost + 1;

    /* Made before any C allocation, so that allocating it cannot leak them. */
    SEXP ptr = PROTECT(R_MakeExternalPtr(NULL, R_NilValue, view));
    R_RegisterCFinalizerEx(ptr, runner_finalize, TRUE);

    /* From here on no R error until every allocation is owned or freed. */
    kernel_t *kernels = kernels_build(kernel_config);
    runner_t *runner = calloc(1, sizeof(runner_t));
    int *slots = malloc(((size_t)data.n + 1) * sizeof(int));
    state_t state;
    memset(&state, 0, sizeof(state));
    int status = kernels && runner && slots ? MS_OK : MS_ERR_NOMEM;
    if (status == MS_OK) {
        /* The bb block reads the runner's copy, which lives as long. */
        runner->data = data;
        if (from_blocks) {
            blocks_bind(&blocks, &runner->data);
            status = state_init(&state, data.n, REAL(alpha)[0], capacity,
                                blocks.n_blocks, blocks.specs);
        } else {
            status = state_init_bb(&state, &runner->data, hp, hp + data.D,
                                   REAL(alpha)[0], capacity);
        }
    }
    if (status == MS_OK) {
        for (int i = 0; i < data.n; i++) slots[i] = labels[i] - 1;
        status = state_set_assignment(&state, &runner->data, slots);
    }
    int order_ok = 1;
    if (status == MS_OK && cp.active_order != NULL) {
        for (int j = 0; j < cp.n_order; j++) slots[j] = cp.active_order[j] - 1;
        order_ok = state_restore_order(&state, slots, cp.n_order, cp.ghost - 1) == 0;
    }
    free(slots);
    if (status == MS_OK) {
        status = chain_init(&runner->chain, &runner->data, &state, kernels,
                            (int)XLENGTH(kernel_config), seed);
        kernels = NULL; /* owned by the chain now */
        if (status || !order_ok) chain_free(&runner->chain);
    } else {
        state_free(&state);
    }
    if (status || !order_ok) {
        kernels_free(kernels, (int)XLENGTH(kernel_config));
        free(runner);
        if (!order_ok)
            Rf_error("`latent`: its `active_order` and `ghost` do not match "
                     "its groups.");
        stop_on_status(status, "runner()");
    }
    runner->chain.partition_prior.groups = groups;
    if (cp.stream != NULL) stream_from_bytes(&runner->chain.rng, cp.stream);
    runner->chain.iterations_before = (long)cp.iteration;
    R_SetExternalPtrAddr(ptr, runner);
    UNPROTECT(1);
    return ptr;
}

/* ---- running: interrupts and progress from the main thread ---- */

/* The pool's poll, through the package's one guarded poll (r_glue.c). */
static int poll_run(void *context, long done, long total) {
    (void)total;
    return poll_guard_poll(context, (double)done);
}

SEXP C_runners_run(SEXP pointers, SEXP niters, SEXP threads, SEXP progress) {
    if (TYPEOF(pointers) != VECSXP) Rf_error("`r` must hold runners.");
    const int n_chains = (int)XLENGTH(pointers);
    const int iters = Rf_asInteger(niters), n_threads = Rf_asInteger(threads);
    if (iters == NA_INTEGER || iters < 0)
        Rf_error("`niters` must be a whole number >= 0.");
    if (n_threads == NA_INTEGER || n_threads < 1)
        Rf_error("`threads` must be a whole number >= 1.");
    /* The workers read these: malloc'ed memory owned by `buffer`, freed
     * whatever ends this call, never R_alloc'ed. */
    const size_t n1 = (size_t)n_chains + 1;
    SEXP buffer = PROTECT(glue_buffer_new(n1 * (sizeof(chain_t *) + 2 * sizeof(int))));
    chain_t **chains = glue_buffer_data(buffer);
    int *status = (int *)(chains + n1);
    int *done = status + n1;
    for (int c = 0; c < n_chains; c++) {
        chains[c] = &runner_of(VECTOR_ELT(pointers, c))->chain;
        for (int j = 0; j < c; j++)
            if (chains[j] == chains[c])
                Rf_error("`r` holds the same runner twice (chains %d and %d); "
                         "each chain needs a runner of its own.", j + 1, c + 1);
        if (chains[c]->failed)
            Rf_error("run(): chain %d failed earlier (%s) and cannot go on; "
                     "make a new runner from its last state, get_latent().",
                     c + 1, ms_status_message(chains[c]->failed));
    }
    SEXP out = PROTECT(Rf_allocVector(INTSXP, n_chains));
    poll_guard_t guard;
    poll_guard_start(&guard, Rf_asLogical(progress) == TRUE,
                     (double)n_chains * iters, "Sampling");
    int result = MS_INTERRUPTED;
    if (guard.stopped == POLL_RUNNING) {
        result = parallel_run(chains, n_chains, iters, n_threads, poll_run,
                              &guard, status, done);
    } else {
        for (int c = 0; c < n_chains; c++) {
            status[c] = MS_INTERRUPTED;
            done[c] = 0;
        }
    }
    /* The workers are joined: R may run again. */
    poll_guard_finish(&guard);
    for (int c = 0; c < n_chains; c++) INTEGER(out)[c] = done[c];
    if (result != MS_OK && result != MS_INTERRUPTED) {
        poll_guard_release(&guard);
        for (int c = 0; c < n_chains; c++)
            if (status[c] != MS_OK && status[c] != MS_INTERRUPTED)
                Rf_error("run(): chain %d failed after %d iterations: %s%s.",
                         c + 1, done[c], ms_status_message(status[c]),
                         status[c] == MS_ERR_NOMEM
                             ? "; its state is valid, as before the move that "
                               "needed memory" : "");
        stop_on_status(result, "run()");
    }
    /* A time limit or an error of the progress bar: raised as it was, with
     * the chains at their last complete iteration. */
    poll_guard_raise(&guard, NULL);
    Rf_setAttrib(out, Rf_install("interrupted"),
                 Rf_ScalarLogical(guard.stopped == POLL_INTERRUPTED));
    glue_buffer_free(buffer);
    UNPROTECT(2);
    return out;
}

/* ---- reading a chain back into R ---- */

/* Whether every feature is bb: the latent of today (D x 2 hyperparameters,
 * heads and tails matrices), else the generic one (per-feature lists). */
static int all_bb(const state_t *st) {
    return st->n_blocks == 1 && state_bb_block(st) != NULL;
}

SEXP C_runner_latent(SEXP ptr) {
    runner_t *runner = runner_of(ptr);
    const state_t *st = &runner->chain.state;
    /* Tests set this internal option to audit the incremental tables
     * against a rebuild from scratch (state_check.c). */
    if (Rf_asLogical(Rf_GetOption1(Rf_install("microscopes.check_state"))) == TRUE) {
        const char *problem = state_check(st, &runner->data);
        if (problem != NULL)
            Rf_error("get_latent(): the chain's state is inconsistent: %s.", problem);
    }
    const int K = st->n_active, D = st->D, n = st->n;
    /* Groups in increasing slot order, so the state does not depend on the
     * order in which groups were created. */
    int *slots = (int *)R_alloc((size_t)K + 1, sizeof(int));
    for (int k = 0, j = 0; k < st->capacity; k++)
        if (st->size[k] > 0) slots[j++] = k;

    const int bb_only = all_bb(st);
    /* The generic latent has the per-feature statistics in `suffstats`
     * and the kinds of the features instead of heads and tails. */
    const char *names[] = {"assignments", "groups", "group_sizes",
                           bb_only ? "heads" : "suffstats",
                           bb_only ? "tails" : "feature_kinds", "alpha",
                           "feature_hps", "rng", "iteration", "active_order",
                           "ghost", ""};
    SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
    SEXP assignments = SET_VECTOR_ELT(out, 0, Rf_allocVector(INTSXP, n));
    for (int i = 0; i < n; i++) INTEGER(assignments)[i] = st->group_of_row[i] + 1;
    SEXP groups = SET_VECTOR_ELT(out, 1, Rf_allocVector(INTSXP, K));
    SEXP sizes = SET_VECTOR_ELT(out, 2, Rf_allocVector(INTSXP, K));
    for (int j = 0; j < K; j++) {
        INTEGER(groups)[j] = slots[j] + 1;
        INTEGER(sizes)[j] = st->size[slots[j]];
    }
    SET_VECTOR_ELT(out, 5, Rf_ScalarReal(st->alpha));
    if (bb_only) {
        SEXP heads = SET_VECTOR_ELT(out, 3, Rf_allocMatrix(INTSXP, K, D));
        SEXP tails = SET_VECTOR_ELT(out, 4, Rf_allocMatrix(INTSXP, K, D));
        const bb_block_t *bb = bb_of(state_bb_block(st));
        for (int j = 0; j < K; j++) {
            const int k = slots[j];
            for (int d = 0; d < D; d++) {
                INTEGER(heads)[j + (R_xlen_t)d * K] = bb->heads[(size_t)k * D + d];
                INTEGER(tails)[j + (R_xlen_t)d * K] = bb->tails[(size_t)k * D + d];
            }
        }
        SEXP hps = SET_VECTOR_ELT(out, 6, Rf_allocMatrix(REALSXP, D, 2));
        for (int d = 0; d < D; d++) {
            REAL(hps)[d] = bb->a[d];
            REAL(hps)[d + D] = bb->b[d];
        }
    } else {
        SET_VECTOR_ELT(out, 3, blocks_latent_stats(st, slots, K));
        SET_VECTOR_ELT(out, 4, blocks_feature_kinds(st));
        SET_VECTOR_ELT(out, 6, blocks_latent_hps(st));
    }
    /* What the next sweep depends on besides the partition and the
     * hyperparameters: the stream's position, the order in which the
     * assign kernel lists the groups, and the empty slot it offers. */
    SEXP stream = SET_VECTOR_ELT(out, 7, Rf_allocVector(RAWSXP, 32));
    stream_to_bytes(&runner->chain.rng, RAW(stream));
    SET_VECTOR_ELT(out, 8, Rf_ScalarReal((double)runner->chain.iterations_before +
                                         runner->chain.trace_length));
    SEXP order = SET_VECTOR_ELT(out, 9, Rf_allocVector(INTSXP, K));
    for (int j = 0; j < K; j++) INTEGER(order)[j] = st->active[j] + 1;
    SET_VECTOR_ELT(out, 10, Rf_ScalarInteger(st->ghost + 1));
    UNPROTECT(1);
    return out;
}

/* Every feature's hyperparameters and statistics through the block
 * operations (n_stats / get_stats), whatever the kinds: what the generic
 * latent holds, readable for all-bb states too (groups in increasing slot
 * order, as get_latent()). */
SEXP C_runner_block_stats(SEXP ptr) {
    runner_t *runner = runner_of(ptr);
    const state_t *st = &runner->chain.state;
    const int K = st->n_active;
    int *slots = (int *)R_alloc((size_t)K + 1, sizeof(int));
    for (int k = 0, j = 0; k < st->capacity; k++)
        if (st->size[k] > 0) slots[j++] = k;
    const char *names[] = {"feature_hps", "suffstats", "feature_kinds", ""};
    SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
    SET_VECTOR_ELT(out, 0, blocks_latent_hps(st));
    SET_VECTOR_ELT(out, 1, blocks_latent_stats(st, slots, K));
    SET_VECTOR_ELT(out, 2, blocks_feature_kinds(st));
    UNPROTECT(1);
    return out;
}

SEXP C_runner_trace(SEXP ptr) {
    runner_t *runner = runner_of(ptr);
    const chain_t *chain = &runner->chain;
    const int T = chain->trace_length;
    const char *names[] = {"n_groups", "alpha", "log_joint", "kernel_seconds",
                           "first_iteration", "split_merge", ""};
    SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
    SEXP groups = SET_VECTOR_ELT(out, 0, Rf_allocVector(INTSXP, T));
    SEXP alpha = SET_VECTOR_ELT(out, 1, Rf_allocVector(REALSXP, T));
    SEXP joint = SET_VECTOR_ELT(out, 2, Rf_allocVector(REALSXP, T));
    if (T > 0) {
        memcpy(INTEGER(groups), chain->trace_groups, T * sizeof(int));
        memcpy(REAL(alpha), chain->trace_alpha, T * sizeof(double));
        memcpy(REAL(joint), chain->trace_log_joint, T * sizeof(double));
    }
    SEXP seconds = SET_VECTOR_ELT(out, 3, Rf_allocVector(REALSXP, N_KERNEL_KINDS));
    memcpy(REAL(seconds), chain->kernel_seconds, N_KERNEL_KINDS * sizeof(double));
    SET_VECTOR_ELT(out, 4, Rf_ScalarReal((double)chain->iterations_before + 1));
    /* Per iteration: split proposals, split acceptances, merge proposals,
     * merge acceptances (a 4 x T matrix). */
    SEXP split_merge = SET_VECTOR_ELT(out, 5, Rf_allocMatrix(INTSXP, 4, T));
    if (T > 0)
        memcpy(INTEGER(split_merge), chain->trace_split_merge,
               (size_t)T * 4 * sizeof(int));
    UNPROTECT(1);
    return out;
}

/* The stream of a runner's chain, as get_latent() saves it: runners that
 * share one would be the same chain. */
SEXP C_runner_stream(SEXP ptr) {
    runner_t *runner = runner_of(ptr);
    SEXP out = PROTECT(Rf_allocVector(RAWSXP, 32));
    stream_to_bytes(&runner->chain.rng, RAW(out));
    UNPROTECT(1);
    return out;
}

/* A fresh stream drawn from R's RNG, as runner() draws one (reseed()). */
SEXP C_fresh_stream(void) {
    GetRNGstate();
    const uint64_t seed = seed_from_r();
    PutRNGstate();
    rng_t rng;
    rng_seed(&rng, seed);
    SEXP out = PROTECT(Rf_allocVector(RAWSXP, 32));
    stream_to_bytes(&rng, RAW(out));
    UNPROTECT(1);
    return out;
}

/* The chain's iteration count, as get_latent() saves it: with the stream,
 * what tells whether a live runner is still at a fit's recorded state. */
SEXP C_runner_iteration(SEXP ptr) {
    runner_t *runner = runner_of(ptr);
    return Rf_ScalarReal((double)runner->chain.iterations_before +
                         runner->chain.trace_length);
}

/* FALSE for a runner restored by readRDS: its pointer is NULL. */
SEXP C_runner_alive(SEXP ptr) {
    return Rf_ScalarLogical(TYPEOF(ptr) == EXTPTRSXP &&
                            R_ExternalPtrAddr(ptr) != NULL);
}

/* The chain of a runner, for the other glue files (r_fit.c). */
chain_t *runner_chain(SEXP ptr) { return &runner_of(ptr)->chain; }

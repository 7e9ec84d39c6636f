/* .Call glue for the front end (R/fit.R, R/partition.R): recording kept
 * draws in a chain, decoding them, the pointwise log predictive and the
 * point-partition search. Kept draws travel in R as a raw vector of 16- or
 * 32-bit labels (draws.h), so that a fit stays small and saveRDS keeps
 * it. */
#include <limits.h>
#include <string.h>
#include "r_glue.h"
#include "chain.h"
#include "draws.h"
#include "log_lik.h"
#include "log_lik_blocks.h"
#include "r_blocks.h"
#include "partition_search.h"
#include "status.h"

chain_t *runner_chain(SEXP ptr);          /* r_runner.c */
void data_from_view(SEXP view, data_t *data); /* r_data.c */

SEXP C_runner_record(SEXP ptr, SEXP iteration, SEXP warmup, SEXP thin,
                     SEXP expected) {
    chain_t *chain = runner_chain(ptr);
    const double it = Rf_asReal(iteration), w = Rf_asReal(warmup);
    const int th = Rf_asInteger(thin), ex = Rf_asInteger(expected);
    if (!(it >= 0) || !(w >= 0) || it > INT_MAX || w > INT_MAX ||
        th == NA_INTEGER || th < 1 || ex == NA_INTEGER || ex < 0)
        Rf_error("recording draws: bad iteration, warmup, thin or size "
                 "(internal error).");
    draws_t *draws = draws_new(chain->state.n, chain->state.D,
                               draws_hp_width(&chain->state), (long)it,
                               (long)w, th, ex);
    if (draws == NULL) stop_on_status(MS_ERR_NOMEM, "dpmixture()");
    draws_free(chain->recorder);
    chain->recorder = draws;
    return R_NilValue;
}

/* Detaches and frees the recorder, if any: fit_run() drops every chain's
 * on exit, so that a failure to attach one (or any error) leaves no chain
 * recording into a stale recorder. */
SEXP C_runner_drop_recorder(SEXP ptr) {
    chain_t *chain = runner_chain(ptr);
    draws_free(chain->recorder);
    chain->recorder = NULL;
    return R_NilValue;
}

/* Copies the kept draws out and detaches the recorder. */
SEXP C_runner_take_draws(SEXP ptr) {
    chain_t *chain = runner_chain(ptr);
    draws_t *draws = chain->recorder;
    if (draws == NULL) Rf_error("the runner records no draws (internal error).");
    const int T = draws->length, n = draws->n, H = draws->hp_width;
    const char *names[] = {"labels", "label_bytes", "iteration", "n_groups",
                           "alpha", "log_joint", "feature_hps", ""};
    SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
    const R_xlen_t bytes = (R_xlen_t)T * n * draws->label_bytes;
    SEXP labels = SET_VECTOR_ELT(out, 0, Rf_allocVector(RAWSXP, bytes));
    if (bytes > 0) memcpy(RAW(labels), draws->labels, (size_t)bytes);
    SET_VECTOR_ELT(out, 1, Rf_ScalarInteger(draws->label_bytes));
    SEXP iter = SET_VECTOR_ELT(out, 2, Rf_allocVector(INTSXP, T));
    SEXP groups = SET_VECTOR_ELT(out, 3, Rf_allocVector(INTSXP, T));
    SEXP alpha = SET_VECTOR_ELT(out, 4, Rf_allocVector(REALSXP, T));
    SEXP joint = SET_VECTOR_ELT(out, 5, Rf_allocVector(REALSXP, T));
    SEXP hps = SET_VECTOR_ELT(out, 6, Rf_allocMatrix(REALSXP, T, H));
    for (int t = 0; t < T; t++) {
        INTEGER(iter)[t] = draws->kept_iteration[t];
        INTEGER(groups)[t] = draws->n_groups[t];
        REAL(alpha)[t] = draws->alpha[t];
        REAL(joint)[t] = draws->log_joint[t];
        for (int j = 0; j < H; j++)
            REAL(hps)[t + (R_xlen_t)j * T] = draws->hps[(size_t)t * H + j];
    }
    chain->recorder = NULL;
    draws_free(draws);
    UNPROTECT(1);
    return out;
}

/* Checks a raw vector of labels against n and returns the number of draws. */
static int label_draws_arg(SEXP labels, SEXP n_rows, SEXP label_bytes,
                           label_draws_t *x) {
    const int n = Rf_asInteger(n_rows), b = Rf_asInteger(label_bytes);
    if (TYPEOF(labels) != RAWSXP || n == NA_INTEGER || n < 1 || (b != 2 && b != 4))
        Rf_error("kept draws must be a raw vector of labels (internal error).");
    const R_xlen_t per = (R_xlen_t)n * b;
    if (XLENGTH(labels) % per != 0 || XLENGTH(labels) / per > INT_MAX)
        Rf_error("kept draws have %lld bytes, not a multiple of %lld "
                 "(internal error).", (long long)XLENGTH(labels), (long long)per);
    x->n = n;
    x->label_bytes = b;
    x->n_draws = (int)(XLENGTH(labels) / per);
    x->labels = RAW(labels);
    x->weight = NULL;
    for (int t = 0; t < x->n_draws; t++)
        for (int i = 0; i < n; i++) {
            const int l = label_draws_get(x, t, i);
            if (l < 0 || l >= n)
                Rf_error("kept draw %d has a label out of range (internal error).",
                         t + 1);
        }
    return x->n_draws;
}

SEXP C_draws_labels(SEXP labels, SEXP n_rows, SEXP label_bytes) {
    label_draws_t x;
    const int T = label_draws_arg(labels, n_rows, label_bytes, &x);
    SEXP out = PROTECT(Rf_allocMatrix(INTSXP, T, x.n));
    int *o = INTEGER(out);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < x.n; i++)
            o[t + (R_xlen_t)i * T] = label_draws_get(&x, t, i) + 1;
    UNPROTECT(1);
    return out;
}

/* Integer labels (1-based, draws x n matrix) -> the raw form. */
SEXP C_draws_pack(SEXP matrix, SEXP label_bytes) {
    const int b = Rf_asInteger(label_bytes);
    if (TYPEOF(matrix) != INTSXP || !Rf_isMatrix(matrix) || (b != 2 && b != 4))
        Rf_error("labels must be an integer matrix (internal error).");
    const int T = Rf_nrows(matrix), n = Rf_ncols(matrix);
    SEXP out = PROTECT(Rf_allocVector(RAWSXP, (R_xlen_t)T * n * b));
    const int *m = INTEGER(matrix);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < n; i++) {
            const int v = m[t + (R_xlen_t)i * T];
            if (v == NA_INTEGER || v < 1 || v > n)
                Rf_error("labels must lie between 1 and %d (internal error).", n);
            const size_t at = (size_t)t * n + i;
            if (b == 2) ((uint16_t *)RAW(out))[at] = (uint16_t)(v - 1);
            else ((int32_t *)RAW(out))[at] = v - 1;
        }
    UNPROTECT(1);
    return out;
}

SEXP C_draws_log_lik(SEXP view, SEXP labels, SEXP label_bytes, SEXP hps,
                     SEXP threads) {
    data_t data;
    data_from_view(view, &data);
    label_draws_t x;
    SEXP n_rows = PROTECT(Rf_ScalarInteger(data.n));
    const int T = label_draws_arg(labels, n_rows, label_bytes, &x);
    UNPROTECT(1);
    if (TYPEOF(hps) != REALSXP || Rf_nrows(hps) != T || Rf_ncols(hps) != 2 * data.D)
        Rf_error("feature hyperparameters of the draws must be a %d x %d "
                 "matrix (internal error).", T, 2 * data.D);
    const int n_threads = Rf_asInteger(threads);
    /* Draw-major copy of the hyperparameters for the workers: C memory
     * owned by an external pointer, never R_alloc (r_glue.h). */
    SEXP hp_buffer = PROTECT(glue_buffer_new(((size_t)T * 2 * data.D + 1) * sizeof(double)));
    double *hp = glue_buffer_data(hp_buffer);
    for (int t = 0; t < T; t++)
        for (int j = 0; j < 2 * data.D; j++)
            hp[(size_t)t * 2 * data.D + j] = REAL(hps)[t + (R_xlen_t)j * T];
    SEXP out = PROTECT(Rf_allocMatrix(REALSXP, T, data.n));
    poll_guard_t guard;
    poll_guard_start(&guard, 0, 0.0, NULL);
    const int status = log_lik_draws(&data, &x, hp, n_threads > 0 ? n_threads : 1,
                                     REAL(out), poll_guard_pool_poll, &guard);
    glue_buffer_free(hp_buffer);
    poll_guard_end(&guard, status, "log_lik()");
    UNPROTECT(2);
    return out;
}

/* log_lik() of a mixed fit: `blocks` from pack_blocks(), `block_hps` any
 * valid hyperparameters per block (pack_block_hps(); they size the
 * blocks), `hps` the draws x hp_width matrix of the kept draws. */
SEXP C_draws_log_lik_blocks(SEXP blocks, SEXP block_hps, SEXP labels,
                            SEXP label_bytes, SEXP hps, SEXP threads) {
    packed_blocks_t pb;
    blocks_read(blocks, block_hps, &pb);
    blocks_bind(&pb, &pb.bb_data);
    label_draws_t x;
    SEXP n_rows = PROTECT(Rf_ScalarInteger(pb.n));
    const int T = label_draws_arg(labels, n_rows, label_bytes, &x);
    UNPROTECT(1);
    if (TYPEOF(hps) != REALSXP || !Rf_isMatrix(hps) || Rf_nrows(hps) != T)
        Rf_error("feature hyperparameters of the draws must be a matrix of %d "
                 "rows (internal error).", T);
    const int H = Rf_ncols(hps);
    for (R_xlen_t j = 0; j < XLENGTH(hps); j++)
        if (!R_FINITE(REAL(hps)[j]))
            Rf_error("feature hyperparameters of the draws must be finite "
                     "(internal error).");
    const int n_threads = Rf_asInteger(threads);
    /* Draw-major copy for the workers: C memory owned by an external
     * pointer (r_glue.h). */
    SEXP hp_buffer = PROTECT(glue_buffer_new(((size_t)T * H + 1) * sizeof(double)));
    double *hp = glue_buffer_data(hp_buffer);
    for (int t = 0; t < T; t++)
        for (int j = 0; j < H; j++)
            hp[(size_t)t * H + j] = REAL(hps)[t + (R_xlen_t)j * T];
    SEXP out = PROTECT(Rf_allocMatrix(REALSXP, T, pb.n));
    poll_guard_t guard;
    poll_guard_start(&guard, 0, 0.0, NULL);
    const int status = log_lik_blocks_draws(pb.n, pb.n_blocks, pb.specs, &x, hp, H,
                                            n_threads > 0 ? n_threads : 1, REAL(out),
                                            poll_guard_pool_poll, &guard);
    glue_buffer_free(hp_buffer);
    poll_guard_end(&guard, status, "log_lik()");
    UNPROTECT(2);
    return out;
}

static int loss_arg(SEXP loss) {
    const int l = Rf_asInteger(loss);
    if (l != LOSS_BINDER && l != LOSS_VI)
        Rf_error("unknown loss (internal error).");
    return l;
}

static const double *draw_weights(SEXP weights, int T) {
    if (TYPEOF(weights) != REALSXP || XLENGTH(weights) != T)
        Rf_error("`weights` must be %d numbers (internal error).", T);
    return REAL(weights);
}

SEXP C_partition_search(SEXP labels, SEXP n_rows, SEXP label_bytes,
                        SEXP weights, SEXP loss, SEXP runs, SEXP draw_starts,
                        SEXP max_sweeps, SEXP seed_arg, SEXP threads) {
    label_draws_t x;
    const int T = label_draws_arg(labels, n_rows, label_bytes, &x);
    if (T < 1) Rf_error("there are no draws to summarise.");
    x.weight = draw_weights(weights, T);
    const int l = loss_arg(loss), n_runs = Rf_asInteger(runs),
              n_starts = Rf_asInteger(draw_starts), sweeps = Rf_asInteger(max_sweeps);
    /* The sum in 64 bits: two ints near INT_MAX overflow an int. */
    if (n_runs == NA_INTEGER || n_starts == NA_INTEGER || sweeps == NA_INTEGER ||
        n_runs < 0 || n_starts < 0 || sweeps < 1 ||
        (int64_t)n_runs + n_starts < 1 || (int64_t)n_runs + n_starts > INT_MAX)
        Rf_error("bad search settings (internal error).");
    /* A fixed seed (not R's generator), so that a fit's point partition
     * is one thing however often it is asked for. */
    const double seed_value = Rf_asReal(seed_arg);
    if (!R_FINITE(seed_value) || seed_value < 0)
        Rf_error("`seed` must be a number >= 0 (internal error).");
    const uint64_t seed = (uint64_t)seed_value;
    SEXP best = PROTECT(Rf_allocVector(INTSXP, x.n));
    double expected = 0;
    const int n_threads = Rf_asInteger(threads);
    poll_guard_t guard;
    poll_guard_start(&guard, 0, 0.0, NULL);
    const int status = partition_search(&x, l, n_runs, n_starts, sweeps, seed,
                                        n_threads > 0 ? n_threads : 1,
                                        INTEGER(best), &expected,
                                        poll_guard_pool_poll, &guard);
    poll_guard_end(&guard, status, "point_partition()");
    for (int i = 0; i < x.n; i++) INTEGER(best)[i] += 1;
    Rf_setAttrib(best, Rf_install("expected_loss"), Rf_ScalarReal(expected));
    UNPROTECT(1);
    return best;
}

SEXP C_partition_losses(SEXP labels, SEXP n_rows, SEXP label_bytes,
                        SEXP partition, SEXP loss) {
    label_draws_t x;
    const int T = label_draws_arg(labels, n_rows, label_bytes, &x);
    const int l = loss_arg(loss);
    if (TYPEOF(partition) != INTSXP || XLENGTH(partition) != x.n)
        Rf_error("the partition must have %d labels (internal error).", x.n);
    int *c = (int *)R_alloc((size_t)x.n, sizeof(int));
    for (int i = 0; i < x.n; i++) {
        const int v = INTEGER(partition)[i];
        if (v == NA_INTEGER || v < 1 || v > x.n)
            Rf_error("the partition's labels must lie between 1 and %d.", x.n);
        c[i] = v - 1;
    }
    SEXP out = PROTECT(Rf_allocVector(REALSXP, T));
    const int status = partition_draw_losses(&x, c, l, REAL(out));
    stop_on_status(status, "point_partition()");
    UNPROTECT(1);
    return out;
}

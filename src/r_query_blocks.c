/* R glue for posterior-predictive queries on mixed states
 * (query_blocks.h). R/query-mixed.R has checked and converted the query
 * and the states; this file re-checks types and lengths (memory safety),
 * qb_check() the values, and turns status codes into R errors on the main
 * thread. */
#include <limits.h>
#include <string.h>
#include <R_ext/Random.h>

#include "r_glue.h"
#include "query_blocks.h"
#include "status.h"

static int int_scalar(SEXP x, const char *arg) {
    if (TYPEOF(x) != INTSXP || XLENGTH(x) != 1 || INTEGER(x)[0] == NA_INTEGER)
        Rf_error("`%s` must be a single integer (internal error).", arg);
    return INTEGER(x)[0];
}

/* One state list(group_sizes, alpha, groups, stats, hps) into st; the
 * pointer arrays live in `ptrs` (2 * D entries), owned by the caller. */
static void mixed_state(qb_state_t *st, const double **ptrs, SEXP s, int D,
                        const int *kind, const int *n_levels, int index) {
    if (TYPEOF(s) != VECSXP)
        Rf_error("`infers`: state %d is not a list.", index);
    SEXP sizes = list_get(s, "group_sizes"), alpha = list_get(s, "alpha");
    SEXP groups = list_get(s, "groups"), stats = list_get(s, "stats");
    SEXP hps = list_get(s, "hps");
    if (TYPEOF(sizes) != REALSXP || TYPEOF(alpha) != REALSXP ||
        XLENGTH(alpha) != 1 || TYPEOF(groups) != INTSXP ||
        XLENGTH(groups) != 1 || TYPEOF(stats) != VECSXP ||
        XLENGTH(stats) != D || TYPEOF(hps) != VECSXP || XLENGTH(hps) != D)
        Rf_error("`infers`: state %d has fields of the wrong type or length.",
                 index);
    if (XLENGTH(sizes) > INT_MAX - 1)
        Rf_error("`infers`: state %d has too many groups.", index);
    int K = (int)XLENGTH(sizes);
    st->K = K;
    st->size = REAL(sizes);
    st->alpha = REAL(alpha)[0];
    st->groups = INTEGER(groups)[0];
    if (st->groups == NA_INTEGER)
        Rf_error("`infers`: state %d has a missing number of groups.", index);
    for (int d = 0; d < D; d++) {
        SEXP m = VECTOR_ELT(stats, d), h = VECTOR_ELT(hps, d);
        R_xlen_t need = (R_xlen_t)K * qb_n_stats(kind[d], n_levels[d]);
        if (TYPEOF(m) != REALSXP || XLENGTH(m) != need)
            Rf_error("`infers`: state %d, feature %d has statistics of the "
                     "wrong size (%lld, expected %lld).", index, d + 1,
                     (long long)XLENGTH(m), (long long)need);
        if (TYPEOF(h) != REALSXP || XLENGTH(h) != qb_n_hp(kind[d], n_levels[d]))
            Rf_error("`infers`: state %d, feature %d has %lld hyperparameters, "
                     "expected %d.", index, d + 1, (long long)XLENGTH(h),
                     qb_n_hp(kind[d], n_levels[d]));
        ptrs[d] = REAL(m);
        ptrs[D + d] = REAL(h);
    }
    st->stats = ptrs;
    st->hp = ptrs + D;
}

/* x: n x D double matrix (NaN / NA = predict); kinds, n_levels: integer D;
 * parameter: double D; states: list of normalised states; mode: 0 draws,
 * 1 means; draw_state: 1-based state per draw (draws); weights: per state
 * (means); threads >= 1. */
SEXP C_query_mixed(SEXP x, SEXP kinds, SEXP n_levels, SEXP parameter,
                   SEXP states, SEXP mode_, SEXP draw_state, SEXP weights,
                   SEXP threads_) {
    int mode = int_scalar(mode_, "mode");
    int threads = int_scalar(threads_, "threads");
    if (mode != QBQ_DRAWS && mode != QBQ_MEAN && mode != QBQ_GROUPS)
        Rf_error("`mode` must be 0, 1 or 2 (internal error).");
    if (threads < 1) Rf_error("`threads` must be at least 1.");
    if (threads > 1024) threads = 1024;
    SEXP dim = Rf_getAttrib(x, R_DimSymbol);
    if (TYPEOF(x) != REALSXP || TYPEOF(dim) != INTSXP || XLENGTH(dim) != 2)
        Rf_error("`queries` must be a double matrix (internal error).");
    int n = INTEGER(dim)[0], D = INTEGER(dim)[1];
    if (TYPEOF(kinds) != INTSXP || XLENGTH(kinds) != D ||
        TYPEOF(n_levels) != INTSXP || XLENGTH(n_levels) != D ||
        TYPEOF(parameter) != REALSXP || XLENGTH(parameter) != D)
        Rf_error("`kinds`, `n_levels` and `parameter` must have one entry per "
                 "feature (internal error).");
    const int *kind = INTEGER(kinds), *levels = INTEGER(n_levels);
    for (int d = 0; d < D; d++)
        if (kind[d] == NA_INTEGER || kind[d] < 0 || kind[d] >= N_BLOCK_KINDS ||
            levels[d] == NA_INTEGER || levels[d] < 0)
            Rf_error("feature %d has an invalid kind or number of levels.", d + 1);
    if (TYPEOF(states) != VECSXP || XLENGTH(states) < 1 ||
        XLENGTH(states) > INT_MAX / 2)
        Rf_error("`infers` must be a non-empty list of states.");
    int S = (int)XLENGTH(states);

    /* Read by the workers: C memory owned by external pointers. */
    SEXP st_buf = PROTECT(glue_buffer_new(sizeof(qb_state_t) * (size_t)S));
    SEXP ptr_buf = PROTECT(glue_buffer_new(sizeof(double *) * (2 * (size_t)D + 1) * S));
    qb_state_t *st = glue_buffer_data(st_buf);
    const double **ptrs = glue_buffer_data(ptr_buf);
    for (int s = 0; s < S; s++)
        mixed_state(&st[s], ptrs + (size_t)s * 2 * D, VECTOR_ELT(states, s), D,
                    kind, levels, s + 1);

    qb_problem_t p;
    memset(&p, 0, sizeof p);
    p.mode = mode;
    p.n_rows = n;
    p.D = D;
    p.kind = kind;
    p.n_levels = levels;
    p.parameter = REAL(parameter);
    p.x = REAL(x);
    p.n_states = S;
    p.states = st;

    char msg[256];
    int bad = qb_check(&p, msg, sizeof msg);
    if (bad) Rf_error("`%s`: %s.", bad == 2 ? "queries" : "infers", msg);

    int n_protected = 2;
    SEXP ds_buf = R_NilValue;
    if (mode == QBQ_DRAWS) {
        if (TYPEOF(draw_state) != INTSXP)
            Rf_error("`draw_state` must be an integer vector (internal error).");
        R_xlen_t n_draws = XLENGTH(draw_state);
        if (n_draws > INT_MAX) Rf_error("too many draws.");
        ds_buf = PROTECT(glue_buffer_new(sizeof(int) * ((size_t)n_draws + 1)));
        n_protected++;
        int *ds = glue_buffer_data(ds_buf);
        for (R_xlen_t j = 0; j < n_draws; j++) {
            int v = INTEGER(draw_state)[j];
            if (v == NA_INTEGER || v < 1 || v > S)
                Rf_error("`draw_state` out of range (internal error).");
            ds[j] = v - 1;
        }
        p.n_draws = (int)n_draws;
        p.draw_state = ds;
    } else if (mode == QBQ_GROUPS) {
        if (S != 1) Rf_error("group weights are for one state (internal error).");
    } else {
        if (TYPEOF(weights) != REALSXP || XLENGTH(weights) != S)
            Rf_error("`weights` must be a double vector of length %d.", S);
        for (int s = 0; s < S; s++)
            if (!(R_FINITE(REAL(weights)[s]) && REAL(weights)[s] >= 0))
                Rf_error("`weights` must be finite and non-negative.");
        p.state_weight = REAL(weights);
    }

    SEXP out;
    if (mode == QBQ_DRAWS) {
        double cells = (double)n * D * p.n_draws;
        if (cells > (double)R_XLEN_T_MAX)
            Rf_error("the array of draws would have %.0f entries: too many.", cells);
        out = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)cells));
        SEXP odim = PROTECT(Rf_allocVector(INTSXP, 3));
        INTEGER(odim)[0] = n;
        INTEGER(odim)[1] = D;
        INTEGER(odim)[2] = p.n_draws;
        Rf_setAttrib(out, R_DimSymbol, odim);
        UNPROTECT(1);
    } else if (mode == QBQ_GROUPS) {
        out = PROTECT(Rf_allocMatrix(REALSXP, n, st[0].K + 1));
    } else {
        int M = 0;
        for (int d = 0; d < D; d++) M += qb_mean_size(kind[d], levels[d]);
        out = PROTECT(Rf_allocMatrix(REALSXP, n, M));
    }
    n_protected++;
    p.out = REAL(out);

    if (mode == QBQ_DRAWS) {
        /* One master seed from R's RNG, so that set.seed() reproduces. */
        GetRNGstate();
        p.seed = seed_from_r();
        PutRNGstate();
    }
    poll_guard_t guard;
    poll_guard_start(&guard, 0, 0.0, NULL);
    int status = qb_run(&p, threads, poll_guard_pool_poll, &guard);
    poll_guard_end(&guard, status, "posterior-predictive query");
    UNPROTECT(n_protected);
    return out;
}

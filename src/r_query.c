/* R glue for posterior-predictive queries, co-clustering frequencies and the
 * least-squares point partition. The R side (R/query.R) has checked and
 * normalised the arguments; this file re-checks what matters for memory
 * safety (types, lengths, ranges), converts to the plain C structs of
 * query.h and partition.h, and turns status codes into R errors on the main
 * thread. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <R_ext/Random.h>

#include "r_glue.h"
#include "partition.h"
#include "query.h"
#include "status.h"

/* ------------------------------------------------------------------------ */
/* Helpers */

static int scalar_int(SEXP x, const char *arg) {
    if (TYPEOF(x) != INTSXP || XLENGTH(x) != 1 || INTEGER(x)[0] == NA_INTEGER)
        Rf_error("`%s` must be a single integer (internal error).", arg);
    return INTEGER(x)[0];
}

/* Weights: finite, >= 0; `n` of them. */
static const double *weights_arg(SEXP w, R_xlen_t n, const char *arg) {
    if (TYPEOF(w) != REALSXP || XLENGTH(w) != n)
        Rf_error("`%s` must be a double vector of length %lld.", arg,
                 (long long)n);
    const double *v = REAL(w);
    for (R_xlen_t i = 0; i < n; i++)
        if (!(R_FINITE(v[i]) && v[i] >= 0))
            Rf_error("`%s` must be finite and non-negative.", arg);
    /* Normalised weights sum to 1; a sum that overflows would make every
     * weighted result 0. */
    double total = 0.0;
    for (R_xlen_t i = 0; i < n; i++) total += v[i];
    if (n > 0 && !(R_FINITE(total) && total > 0))
        Rf_error("`%s` must have a finite sum > 0.", arg);
    return v;
}

/* Fills a query_state_t from the normalised R list of one state. */
static void state_from_list(query_state_t *st, SEXP s, int D, int index) {
    if (TYPEOF(s) != VECSXP)
        Rf_error("`infers`: state %d is not a list.", index);
    SEXP sizes = list_get(s, "group_sizes");
    SEXP heads = list_get(s, "heads");
    SEXP tails = list_get(s, "tails");
    SEXP alpha = list_get(s, "alpha");
    SEXP hps = list_get(s, "feature_hps");
    if (TYPEOF(sizes) != INTSXP || TYPEOF(heads) != INTSXP ||
        TYPEOF(tails) != INTSXP || TYPEOF(alpha) != REALSXP ||
        TYPEOF(hps) != REALSXP)
        Rf_error("`infers`: state %d has fields of the wrong type.", index);
    R_xlen_t K = XLENGTH(sizes);
    if (K > INT_MAX - 1 || XLENGTH(heads) != K * D || XLENGTH(tails) != K * D ||
        XLENGTH(alpha) != 1 || XLENGTH(hps) != 2 * (R_xlen_t)D)
        Rf_error("`infers`: state %d has fields of inconsistent sizes "
                 "(%lld groups, %d features).", index, (long long)K, D);
    st->K = (int)K;
    st->size = INTEGER(sizes);
    st->heads = INTEGER(heads);
    st->tails = INTEGER(tails);
    st->alpha = REAL(alpha)[0];
    st->hp = REAL(hps);
    /* Absent for a Dirichlet process state. */
    SEXP groups = list_get(s, "groups");
    st->groups = groups == R_NilValue ? 0 : Rf_asInteger(groups);
    if (st->groups == NA_INTEGER || st->groups < 0 ||
        (st->groups > 0 && st->groups < K))
        Rf_error("`infers`: state %d has more groups than its finite mixture's %d.",
                 index, st->groups);
    for (R_xlen_t k = 0; k < K; k++)
        if (st->size[k] == NA_INTEGER)
            Rf_error("`infers`: state %d has a missing group size.", index);
    for (R_xlen_t c = 0; c < K * D; c++)
        if (st->heads[c] == NA_INTEGER || st->tails[c] == NA_INTEGER)
            Rf_error("`infers`: state %d has missing heads or tails counts.",
                     index);
}

/* ------------------------------------------------------------------------ */
/* Posterior-predictive queries */

/* x: n x D integer matrix (0, 1, NA); states: list of normalised states;
 * kind: 0 draws, 1 avg, 2 mode, 3 exact; draw_state: 1-based state of each
 * draw (sampled kinds); state_weight: weight of each state, summing to 1
 * (avg, mode, exact); threads: >= 1. */
SEXP C_query_predictive(SEXP x, SEXP states, SEXP kind_, SEXP draw_state,
                        SEXP state_weight, SEXP threads_) {
    int kind = scalar_int(kind_, "kind");
    int threads = scalar_int(threads_, "threads");
    if (kind < QUERY_DRAWS || kind > QUERY_EXACT)
        Rf_error("`kind` must be 0, 1, 2 or 3 (internal error).");
    if (threads < 1) Rf_error("`threads` must be at least 1.");
    if (threads > 1024) threads = 1024;

    if (TYPEOF(x) != INTSXP)
        Rf_error("`queries` must be an integer matrix (internal error).");
    SEXP dim = Rf_getAttrib(x, R_DimSymbol);
    if (TYPEOF(dim) != INTSXP || XLENGTH(dim) != 2)
        Rf_error("`queries` must be a matrix.");
    int n = INTEGER(dim)[0], D = INTEGER(dim)[1];
    const int *xv = INTEGER(x);
    for (R_xlen_t c = 0; c < (R_xlen_t)n * D; c++)
        if (xv[c] != NA_INTEGER && xv[c] != 0 && xv[c] != 1)
            Rf_error("`queries` must hold only 0, 1 or NA.");
    if (NA_INTEGER != QUERY_MISSING)
        Rf_error("NA_integer_ is not INT32_MIN on this platform.");

    if (TYPEOF(states) != VECSXP || XLENGTH(states) < 1)
        Rf_error("`infers` must be a non-empty list of states.");
    if (XLENGTH(states) > INT_MAX / 2)
        Rf_error("`infers` has too many states.");
    int S = (int)XLENGTH(states);
    /* Read by the workers: C memory owned by `buffer` (r_glue.h). */
    SEXP buffer = PROTECT(glue_buffer_new((size_t)S * sizeof(query_state_t)));
    query_state_t *st = glue_buffer_data(buffer);
    for (int s = 0; s < S; s++)
        state_from_list(&st[s], VECTOR_ELT(states, s), D, s + 1);

    int n_protected = 1;
    query_problem_t p;
    memset(&p, 0, sizeof(p));
    p.kind = kind;
    p.n_rows = n;
    p.D = D;
    p.x = xv;
    p.n_states = S;
    p.states = st;

    const char *reason = NULL;
    int bad = query_check_states(&p, &reason);
    if (bad) Rf_error("`infers`: state %d has %s.", bad, reason);

    if (kind != QUERY_DRAWS)
        p.state_weight = weights_arg(state_weight, S, "weights");
    if (kind != QUERY_EXACT) {
        if (TYPEOF(draw_state) != INTSXP)
            Rf_error("`draw_state` must be an integer vector (internal error).");
        R_xlen_t n_draws = XLENGTH(draw_state);
        if (n_draws > INT_MAX) Rf_error("too many draws.");
        SEXP ds_buffer = PROTECT(glue_buffer_new(((size_t)n_draws + 1) * sizeof(int)));
        n_protected++;
        int *ds = glue_buffer_data(ds_buffer);
        for (R_xlen_t j = 0; j < n_draws; j++) {
            int v = INTEGER(draw_state)[j];
            if (v == NA_INTEGER || v < 1 || v > S)
                Rf_error("`draw_state` out of range (internal error).");
            ds[j] = v - 1;
        }
        p.n_draws = (int)n_draws;
        p.draw_state = ds;
    }

    SEXP out;
    if (kind == QUERY_DRAWS) {
        double cells = (double)n * (double)D * (double)p.n_draws;
        if (cells > (double)R_XLEN_T_MAX)
            Rf_error("the array of draws would have %.0f entries: too many; "
                     "use fewer queries or `samples_per_chain`.", cells);
        out = PROTECT(Rf_allocVector(LGLSXP, (R_xlen_t)cells));
        SEXP odim = PROTECT(Rf_allocVector(INTSXP, 3));
        INTEGER(odim)[0] = n;
        INTEGER(odim)[1] = D;
        INTEGER(odim)[2] = p.n_draws;
        Rf_setAttrib(out, R_DimSymbol, odim);
        UNPROTECT(1);
        p.out_int = LOGICAL(out);
    } else {
        out = PROTECT(kind == QUERY_MODE ? Rf_allocMatrix(LGLSXP, n, D)
                                         : Rf_allocMatrix(REALSXP, n, D));
        if (kind == QUERY_MODE) p.out_int = LOGICAL(out);
        else p.out_double = REAL(out);
    }

    if (kind != QUERY_EXACT) {
        /* One master seed from R's RNG, so that set.seed() reproduces. */
        GetRNGstate();
        p.seed = seed_from_r();
        PutRNGstate();
    }

    poll_guard_t guard;
    poll_guard_start(&guard, 0, 0.0, NULL);
    int status = query_run(&p, threads, poll_guard_pool_poll, &guard);
    poll_guard_end(&guard, status, "posterior-predictive query");
    UNPROTECT(n_protected + 1);
    return out;
}

/* ------------------------------------------------------------------------ */
/* Co-clustering frequencies and the least-squares partition */

/* labels: list of S integer vectors of length n with labels in [0, n);
 * weights: S weights. */
static void labels_arg(SEXP labels, int *S, int *n) {
    if (TYPEOF(labels) != VECSXP || XLENGTH(labels) < 1)
        Rf_error("`infers` must be a non-empty list of states.");
    if (XLENGTH(labels) > INT_MAX) Rf_error("`infers` has too many states.");
    *S = (int)XLENGTH(labels);
    SEXP first = VECTOR_ELT(labels, 0);
    if (TYPEOF(first) != INTSXP || XLENGTH(first) > INT_MAX)
        Rf_error("`infers`: assignments must be integer vectors.");
    *n = (int)XLENGTH(first);
    for (int s = 0; s < *S; s++) {
        SEXP l = VECTOR_ELT(labels, s);
        if (TYPEOF(l) != INTSXP || XLENGTH(l) != *n)
            Rf_error("`infers`: every state must have %d assignments.", *n);
        const int *v = INTEGER(l);
        for (int i = 0; i < *n; i++)
            if (v[i] == NA_INTEGER || v[i] < 0 || v[i] >= *n)
                Rf_error("`infers`: state %d has invalid assignments.", s + 1);
    }
}

SEXP C_query_zmatrix(SEXP labels, SEXP weights, SEXP threads_) {
    int S, n;
    labels_arg(labels, &S, &n);
    const double *w = weights_arg(weights, S, "weights");
    int threads = scalar_int(threads_, "threads");
    if (threads < 1) Rf_error("`threads` must be at least 1.");
    if (threads > 1024) threads = 1024;
    if ((double)n * (double)n > (double)R_XLEN_T_MAX)
        Rf_error("`infers` has too many rows for an n x n matrix.");
    SEXP buffer = PROTECT(glue_buffer_new((size_t)S * sizeof(int *)));
    const int **label = glue_buffer_data(buffer);
    for (int s = 0; s < S; s++) label[s] = INTEGER(VECTOR_ELT(labels, s));
    SEXP z = PROTECT(Rf_allocMatrix(REALSXP, n, n));
    poll_guard_t guard;
    poll_guard_start(&guard, 0, 0.0, NULL);
    int status = partition_zmatrix(REAL(z), n, S, label, w, threads,
                                   poll_guard_pool_poll, &guard);
    poll_guard_end(&guard, status, "zmatrix()");
    UNPROTECT(2);
    return z;
}

/* Dahl (2006) least squares: returns, for each state c, the loss
 *   sum_ij (delta_ij(c) - pi_ij)^2 - sum_ij pi_ij^2
 *     = sum_ij delta_ij(c) - 2 sum_t w_t sum_ij delta_ij(c) delta_ij(t),
 * where pi = sum_t w_t delta(t); each inner sum is the sum of squared cells
 * of a contingency table, so no n x n matrix is formed. */
SEXP C_query_ls_loss(SEXP labels, SEXP weights) {
    int S, n;
    labels_arg(labels, &S, &n);
    const double *w = weights_arg(weights, S, "weights");

    /* Rows grouped by label, per state (counting sort). */
    int **rows_by = (int **)R_alloc(S, sizeof(int *));
    int **start = (int **)R_alloc(S, sizeof(int *));
    int *n_labels = (int *)R_alloc(S, sizeof(int));
    for (int s = 0; s < S; s++) {
        const int *l = INTEGER(VECTOR_ELT(labels, s));
        int K = 0;
        for (int i = 0; i < n; i++)
            if (l[i] + 1 > K) K = l[i] + 1;
        n_labels[s] = K;
        start[s] = (int *)R_alloc((size_t)K + 1, sizeof(int));
        rows_by[s] = (int *)R_alloc((size_t)n + 1, sizeof(int));
        memset(start[s], 0, ((size_t)K + 1) * sizeof(int));
        for (int i = 0; i < n; i++) start[s][l[i] + 1]++;
        for (int k = 0; k < K; k++) start[s][k + 1] += start[s][k];
        int *fill = (int *)R_alloc((size_t)K + 1, sizeof(int));
        memcpy(fill, start[s], ((size_t)K + 1) * sizeof(int));
        for (int i = 0; i < n; i++) rows_by[s][fill[l[i]]++] = i;
    }
    int *count = (int *)R_alloc((size_t)n + 1, sizeof(int));
    memset(count, 0, ((size_t)n + 1) * sizeof(int));

    SEXP loss = PROTECT(Rf_allocVector(REALSXP, S));
    double *lv = REAL(loss);
    for (int s = 0; s < S; s++) lv[s] = 0.0;
    /* agreement is symmetric: each pair once */
    for (int s = 0; s < S; s++) {
        const int *u = INTEGER(VECTOR_ELT(labels, s));
        double self = partition_pair_agreement(u, rows_by[s], start[s],
                                               n_labels[s], count);
        lv[s] += self - 2 * w[s] * self;
        for (int t = s + 1; t < S; t++) {
            if (!(w[s] > 0) && !(w[t] > 0)) continue;
            double a = partition_pair_agreement(u, rows_by[t], start[t],
                                                n_labels[t], count);
            lv[s] -= 2 * w[t] * a;
            lv[t] -= 2 * w[s] * a;
        }
        R_CheckUserInterrupt();
    }
    UNPROTECT(1);
    return loss;
}

/* .Call glue for scores of a saved state (plain R list). */
#include "r_glue.h"
#include "block_kinds.h"
#include "blocks_from_stats.h"
#include "status.h"
#include "partition_prior.h"
#include "score.h"

SEXP C_score_crp(SEXP sizes, SEXP n, SEXP alpha) {
    if (TYPEOF(sizes) != INTSXP) Rf_error("`latent`: group sizes must be integers.");
    return Rf_ScalarReal(score_crp(INTEGER(sizes), (int)XLENGTH(sizes),
                                   Rf_asInteger(n), Rf_asReal(alpha)));
}

/* log p(partition | alpha) under the CRP (groups = 0) or the finite
 * mixture of `groups` groups (partition_prior.h). */
SEXP C_score_partition(SEXP sizes, SEXP n, SEXP alpha, SEXP groups) {
    if (TYPEOF(sizes) != INTSXP) Rf_error("`latent`: group sizes must be integers.");
    const int K = Rf_asInteger(groups);
    if (K == NA_INTEGER || K < 0) Rf_error("`groups` must be a whole number >= 0.");
    partition_prior_t prior = {K, PARTITION_TEST_EXACT};
    return Rf_ScalarReal(partition_log_prior(&prior, INTEGER(sizes),
                                             (int)XLENGTH(sizes),
                                             Rf_asInteger(n), Rf_asReal(alpha)));
}

/* Per-feature marginal likelihoods (a vector of D values) of K x D count
 * matrices, so that R can report them by feature or sum them. */
SEXP C_score_features(SEXP heads, SEXP tails, SEXP hps) {
    if (TYPEOF(heads) != INTSXP || TYPEOF(tails) != INTSXP ||
        TYPEOF(hps) != REALSXP || !Rf_isMatrix(heads) || !Rf_isMatrix(tails) ||
        !Rf_isMatrix(hps))
        Rf_error("`latent` is not a valid state.");
    const int K = Rf_nrows(heads), D = Rf_ncols(heads);
    if (Rf_nrows(tails) != K || Rf_ncols(tails) != D || Rf_nrows(hps) != D ||
        Rf_ncols(hps) != 2)
        Rf_error("`latent` is not a valid state: its counts and "
                 "hyperparameters do not fit together.");
    SEXP out = PROTECT(Rf_allocVector(REALSXP, D));
    for (int d = 0; d < D; d++)
        REAL(out)[d] = score_feature(INTEGER(heads) + (R_xlen_t)d * K,
                                     INTEGER(tails) + (R_xlen_t)d * K, K,
                                     REAL(hps)[d], REAL(hps)[d + D]);
    UNPROTECT(1);
    return out;
}

/* A draw from CRP(alpha) over n rows with R's generator (so set.seed works
 * as users expect): labels 1..K in order of appearance. Row i joins group k
 * with probability size_k / (i + alpha), a new group with alpha / (i + alpha). */
SEXP C_sample_crp(SEXP n_rows, SEXP concentration) {
    const int n = Rf_asInteger(n_rows);
    const double alpha = Rf_asReal(concentration);
    if (n == NA_INTEGER || n < 1) Rf_error("`n` must be a whole number >= 1.");
    if (!(alpha > 0) || !R_FINITE(alpha)) Rf_error("`alpha` must be a number > 0.");
    SEXP labels = PROTECT(Rf_allocVector(INTSXP, n));
    int *label = INTEGER(labels);
    int *size = (int *)R_alloc((size_t)n, sizeof(int));
    int K = 0;
    GetRNGstate();
    for (int i = 0; i < n; i++) {
        double u = unif_rand() * (i + alpha);
        int k = 0;
        while (k < K && u >= size[k]) u -= size[k++];
        if (k == K) size[K++] = 0;
        size[k]++;
        label[i] = k + 1;
    }
    PutRNGstate();
    UNPROTECT(1);
    return labels;
}

/* Per-feature log marginals of one model kind's features of a saved
 * state (CONTRACT.md, "Mixed states"): each feature's block is rebuilt
 * from the saved statistics (blocks_from_stats.c), its group marginals
 * summed over the K groups. `hps`: list of F double vectors; `stats`:
 * list of F K x n_stats matrices; `n_levels` (dd; the cell widths of a
 * vector kind, dm / niw) / `parameter` (bnb):
 * per feature, or NULL. */
SEXP C_score_stats(SEXP kind, SEXP hps, SEXP stats, SEXP sizes, SEXP n_levels,
                   SEXP parameter) {
    const int F = (int)XLENGTH(hps), K = (int)XLENGTH(sizes);
    const int kd = Rf_asInteger(kind);
    if (kd <= BLOCK_BETA_BERNOULLI || kd >= N_BLOCK_KINDS ||
        TYPEOF(hps) != VECSXP || TYPEOF(stats) != VECSXP ||
        XLENGTH(stats) != F || TYPEOF(sizes) != INTSXP ||
        (n_levels != R_NilValue &&
         (TYPEOF(n_levels) != INTSXP || XLENGTH(n_levels) != F)) ||
        (parameter != R_NilValue &&
         (TYPEOF(parameter) != REALSXP || XLENGTH(parameter) != F)))
        Rf_error("`s` is not a valid state: its statistics do not fit its models.");
    int *slot_sizes = (int *)R_alloc((size_t)K + 1, sizeof(int));
    int *active = (int *)R_alloc((size_t)K + 1, sizeof(int));
    for (int k = 0; k < K; k++) slot_sizes[k] = INTEGER(sizes)[k];
    slot_sizes[K] = 0;
    for (int j = 0; j < F; j++) {
        SEXP h = VECTOR_ELT(hps, j), x = VECTOR_ELT(stats, j);
        if (TYPEOF(h) != REALSXP || TYPEOF(x) != REALSXP || !Rf_isMatrix(x) ||
            Rf_nrows(x) != K)
            Rf_error("`s` is not a valid state: feature statistics must be "
                     "%d-row numeric matrices.", K);
    }
    SEXP out = PROTECT(Rf_allocVector(REALSXP, F));
    for (int j = 0; j < F; j++) {
        SEXP h = VECTOR_ELT(hps, j), x = VECTOR_ELT(stats, j);
        block_data_t shape = {0};
        shape.n_features = 1;
        shape.n_levels = n_levels == R_NilValue ? NULL : INTEGER(n_levels) + j;
        shape.parameter = parameter == R_NilValue ? NULL : REAL(parameter) + j;
        if (block_kind_is_vector(kd)) {
            /* a vector kind's `n_levels` are its cell widths (issue 14) */
            if (shape.n_levels == NULL || shape.n_levels[0] < 1)
                Rf_error("`s` is not a valid state: a vector-valued feature "
                         "needs its cell width.");
            shape.cell_width = shape.n_levels;
            shape.n_columns = shape.n_levels[0];
            shape.n_levels = NULL;
        }
        if (kd == BLOCK_DIRICHLET_DISCRETE &&
            (shape.n_levels == NULL || XLENGTH(h) != shape.n_levels[0]))
            Rf_error("`s` is not a valid state: a dirichlet_discrete() feature "
                     "needs k alphas.");
        const int hp_offset[2] = {0, (int)XLENGTH(h)};
        const double *columns[1] = {REAL(x)};
        block_t b;
        int status = block_from_stats(&b, kd, &shape, hp_offset, REAL(h), K,
                                      columns);
        if (status == MS_OK && b.ops->n_stats(&b, 0) != Rf_ncols(x))
            status = MS_ERR_NUMERIC;
        double score = 0.0;
        if (status == MS_OK) {
            const partition_view_t p =
                stats_partition_view(K, slot_sizes, active);
            for (int k = 0; k < K; k++)
                score += b.ops->group_log_marginal(&b, &p, k);
        }
        b.ops->free(&b);
        if (status != MS_OK)
            Rf_error("score_data(): feature statistics of kind %d could not "
                     "be scored: %s.", kd, ms_status_message(status));
        REAL(out)[j] = score;
    }
    UNPROTECT(1);
    return out;
}

/* Whether every listed kind has the ops split-merge and slot compaction
 * call (copy_slot, merged_log_marginal, recount; block.h): R leaves
 * split-merge out of default_kernel_config() otherwise. */
SEXP C_kinds_have_group_ops(SEXP kinds) {
    if (TYPEOF(kinds) != INTSXP) Rf_error("`kinds` must be integer kind ids.");
    int ok = 1;
    for (R_xlen_t j = 0; j < XLENGTH(kinds); j++) {
        const block_ops_t *ops = block_kind_ops(INTEGER(kinds)[j]);
        ok = ok && ops != NULL && ops->copy_slot != NULL &&
             ops->merged_log_marginal != NULL && ops->recount != NULL;
    }
    return Rf_ScalarLogical(ok);
}

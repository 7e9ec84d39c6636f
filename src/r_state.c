/* .Call glue for scores of a saved state (plain R list). */
#include "r_glue.h"
#include "score.h"

SEXP C_score_crp(SEXP sizes, SEXP n, SEXP alpha) {
    if (TYPEOF(sizes) != INTSXP) Rf_error("`latent`: group sizes must be integers.");
    return Rf_ScalarReal(score_crp(INTEGER(sizes), (int)XLENGTH(sizes),
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
                                     INTEGER(tails) + (R_xlen_t)d * K, K, 1,
                                     REAL(hps)[d], REAL(hps)[d + D]);
    UNPROTECT(1);
    return out;
}

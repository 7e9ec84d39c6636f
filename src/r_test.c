/* .Call entry points for tests only (not exported, not documented). */
#include "r_glue.h"
#include <math.h>
#include "alloc.h"
#include "log_sum.h"

/* Makes the k-th allocation of the C core from now fail (k = 0: none);
 * returns how many allocations the previous setting still had to go. */
SEXP C_test_fail_alloc(SEXP k) {
    const double value = Rf_asReal(k);
    if (!(value >= 0) || value > 1e9) Rf_error("`k` must be between 0 and 1e9.");
    return Rf_ScalarReal((double)ms_alloc_fail_after((long)value));
}

/* The hyperparameter kernel's two forms of sum_k log Gamma(x + c_k) -
 * log Gamma(x) (log_sum.h) for counts c (whole numbers > 0, any order, any
 * repeats): c(grouped, ladder), for tests against lgamma(). */
SEXP C_test_log_rising_sums(SEXP x, SEXP counts) {
    const double at = Rf_asReal(x);
    if (!(at > 0) || !isfinite(at)) Rf_error("`x` must be a positive number.");
    if (TYPEOF(counts) != INTSXP) Rf_error("`counts` must be an integer vector.");
    const int n = (int)XLENGTH(counts);
    const int *c = INTEGER(counts);
    int largest = 0;
    for (int k = 0; k < n; k++) {
        if (c[k] == NA_INTEGER || c[k] < 1 || c[k] > 10000000)
            Rf_error("`counts` must be whole numbers between 1 and 1e7.");
        if (c[k] > largest) largest = c[k];
    }
    /* Grouped: small counts in order, distinct large ones in order of
     * first appearance. Ladder: distinct counts in increasing order. */
    int *small = (int *)R_alloc((size_t)n + 1, sizeof(int));
    int *large = (int *)R_alloc((size_t)n + 1, sizeof(int));
    int *large_m = (int *)R_alloc((size_t)n + 1, sizeof(int));
    int *distinct = (int *)R_alloc((size_t)n + 1, sizeof(int));
    int *distinct_m = (int *)R_alloc((size_t)n + 1, sizeof(int));
    int *tally = (int *)R_alloc((size_t)largest + 1, sizeof(int));
    for (int v = 0; v <= largest; v++) tally[v] = 0;
    int n_small = 0, n_large = 0, n_distinct = 0;
    for (int k = 0; k < n; k++) {
        if (c[k] <= LOG_RISING_SMALL_MAX) {
            small[n_small++] = c[k];
        } else {
            int j = 0;
            while (j < n_large && large[j] != c[k]) j++;
            if (j == n_large) {
                large[n_large] = c[k];
                large_m[n_large++] = 0;
            }
            large_m[j]++;
        }
        tally[c[k]]++;
    }
    for (int v = 1; v <= largest; v++)
        if (tally[v] > 0) {
            distinct[n_distinct] = v;
            distinct_m[n_distinct++] = tally[v];
        }
    SEXP out = PROTECT(Rf_allocVector(REALSXP, 2));
    REAL(out)[0] = log_rising_sum_grouped(at, small, n_small, large, large_m,
                                          n_large);
    REAL(out)[1] = log_rising_sum_ladder(at, distinct, distinct_m, n_distinct);
    UNPROTECT(1);
    return out;
}

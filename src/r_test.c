/* .Call entry points for tests only (not exported, not documented). */
#include "r_glue.h"
#include "alloc.h"

/* Makes the k-th allocation of the C core from now fail (k = 0: none);
 * returns how many allocations the previous setting still had to go. */
SEXP C_test_fail_alloc(SEXP k) {
    const double value = Rf_asReal(k);
    if (!(value >= 0) || value > 1e9) Rf_error("`k` must be between 0 and 1e9.");
    return Rf_ScalarReal((double)ms_alloc_fail_after((long)value));
}

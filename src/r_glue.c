#include <string.h>
#include <R_ext/Random.h>
#include "r_glue.h"
#include "status.h"

SEXP list_get(SEXP list, const char *name) {
    SEXP names = Rf_getAttrib(list, R_NamesSymbol);
    if (TYPEOF(list) != VECSXP || TYPEOF(names) != STRSXP) return R_NilValue;
    for (R_xlen_t j = 0; j < XLENGTH(list); j++)
        if (strcmp(CHAR(STRING_ELT(names, j)), name) == 0)
            return VECTOR_ELT(list, j);
    return R_NilValue;
}

double list_get_double(SEXP list, const char *name, const char *what) {
    SEXP x = list_get(list, name);
    if ((TYPEOF(x) != REALSXP && TYPEOF(x) != INTSXP) || XLENGTH(x) != 1)
        Rf_error("%s: `%s` must be a single number.", what, name);
    return Rf_asReal(x);
}

int list_get_int(SEXP list, const char *name, const char *what) {
    SEXP x = list_get(list, name);
    if ((TYPEOF(x) != REALSXP && TYPEOF(x) != INTSXP) || XLENGTH(x) != 1)
        Rf_error("%s: `%s` must be a single whole number.", what, name);
    int value = Rf_asInteger(x);
    if (value == NA_INTEGER)
        Rf_error("%s: `%s` must not be missing.", what, name);
    return value;
}

uint64_t seed_from_r(void) {
    /* unif_rand() carries 32 random bits with the default generator; two
     * draws make the 64-bit seed that splitmix64 spreads over the stream. */
    uint64_t high = (uint64_t)(unif_rand() * 4294967296.0);
    uint64_t low = (uint64_t)(unif_rand() * 4294967296.0);
    return (high << 32) ^ low;
}

void stop_on_status(int status, const char *context) {
    if (status != MS_OK) Rf_error("%s: %s.", context, ms_status_message(status));
}

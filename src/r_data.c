/* .Call glue for data views: validates a logical or 0/1 matrix and packs
 * it once into the row-major codes and sparse row indices of data.h. */
#include <limits.h>
#include <math.h>
#include <string.h>
#include "data.h"
#include "r_glue.h"

static void stop_bad_value(const char *arg, R_xlen_t at, int n) {
    Rf_error("`%s` must hold only 0, 1, TRUE, FALSE or NA; entry [%d, %d] is "
             "not one of these.", arg, (int)(at % n) + 1, (int)(at / n) + 1);
}

/* Column-major R matrix -> row-major codes. */
static void fill_codes(SEXP Y, int n, int D, uint8_t *codes, const char *arg) {
    const R_xlen_t total = (R_xlen_t)n * D;
    switch (TYPEOF(Y)) {
    case LGLSXP:
    case INTSXP: {
        const int *y = TYPEOF(Y) == LGLSXP ? LOGICAL(Y) : INTEGER(Y);
        for (R_xlen_t at = 0; at < total; at++) {
            const int v = y[at];
            uint8_t code = CODE_MISSING;
            if (v == NA_INTEGER) code = CODE_MISSING;
            else if (v == 0) code = CODE_OFF;
            else if (v == 1) code = CODE_ON;
            else stop_bad_value(arg, at, n);
            codes[(at % n) * D + at / n] = code;
        }
        break;
    }
    case REALSXP: {
        const double *y = REAL(Y);
        for (R_xlen_t at = 0; at < total; at++) {
            const double v = y[at];
            uint8_t code = CODE_MISSING;
            if (ISNAN(v)) code = CODE_MISSING;
            else if (v == 0) code = CODE_OFF;
            else if (v == 1) code = CODE_ON;
            else stop_bad_value(arg, at, n);
            codes[(at % n) * D + at / n] = code;
        }
        break;
    }
    default:
        Rf_error("`%s` must be a logical or numeric matrix.", arg);
    }
}

SEXP C_pack_data(SEXP Y, SEXP arg_name) {
    const char *arg = CHAR(STRING_ELT(arg_name, 0));
    SEXP dim = Rf_getAttrib(Y, R_DimSymbol);
    if (TYPEOF(dim) != INTSXP || XLENGTH(dim) != 2)
        Rf_error("`%s` must be a matrix.", arg);
    const int n = INTEGER(dim)[0], D = INTEGER(dim)[1];
    if (n < 1 || D < 1) Rf_error("`%s` must have at least one row and column.", arg);

    SEXP codes = PROTECT(Rf_allocVector(RAWSXP, (R_xlen_t)n * D));
    fill_codes(Y, n, D, RAW(codes), arg);
    long n_on, n_missing;
    data_count_entries(RAW(codes), n, D, &n_on, &n_missing);
    if (n_on > INT_MAX || n_missing > INT_MAX)
        Rf_error("`%s` has more than %d ones or missing entries; split it.",
                 arg, INT_MAX);
    SEXP on_start = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)n + 1));
    SEXP on_feature = PROTECT(Rf_allocVector(INTSXP, n_on));
    SEXP missing_start = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)n + 1));
    SEXP missing_feature = PROTECT(Rf_allocVector(INTSXP, n_missing));
    data_fill_index(RAW(codes), n, D, INTEGER(on_start), INTEGER(on_feature),
                    INTEGER(missing_start), INTEGER(missing_feature));

    const char *names[] = {"codes", "on_start", "on_feature", "missing_start",
                           "missing_feature", ""};
    SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
    SET_VECTOR_ELT(out, 0, codes);
    SET_VECTOR_ELT(out, 1, on_start);
    SET_VECTOR_ELT(out, 2, on_feature);
    SET_VECTOR_ELT(out, 3, missing_start);
    SET_VECTOR_ELT(out, 4, missing_feature);
    UNPROTECT(6);
    return out;
}

/* Fills a data_t pointing into a packed view's vectors, checking what a
 * modified or hand-made view could get wrong. */
void data_from_view(SEXP view, data_t *data) {
    SEXP n = list_get(view, "n"), D = list_get(view, "D");
    SEXP codes = list_get(view, "codes"), on_start = list_get(view, "on_start"),
         on_feature = list_get(view, "on_feature"),
         missing_start = list_get(view, "missing_start"),
         missing_feature = list_get(view, "missing_feature");
    if (TYPEOF(n) != INTSXP || TYPEOF(D) != INTSXP || TYPEOF(codes) != RAWSXP ||
        TYPEOF(on_start) != INTSXP || TYPEOF(on_feature) != INTSXP ||
        TYPEOF(missing_start) != INTSXP || TYPEOF(missing_feature) != INTSXP)
        Rf_error("`view` is not a valid dataview; make it with dataview().");
    if (XLENGTH(n) != 1 || XLENGTH(D) != 1 || INTEGER(n)[0] == NA_INTEGER ||
        INTEGER(D)[0] == NA_INTEGER || INTEGER(n)[0] < 1 || INTEGER(D)[0] < 1)
        Rf_error("`view` is not a valid dataview (its `n` or `D` is not a "
                 "whole number >= 1); make it with dataview().");
    data->n = INTEGER(n)[0];
    data->D = INTEGER(D)[0];
    if (XLENGTH(codes) != (R_xlen_t)data->n * data->D ||
        XLENGTH(on_start) != (R_xlen_t)data->n + 1 ||
        XLENGTH(missing_start) != (R_xlen_t)data->n + 1)
        Rf_error("`view` is not a valid dataview (its parts have the wrong "
                 "lengths); make it with dataview().");
    data->codes = RAW(codes);
    data->on_start = INTEGER(on_start);
    data->on_feature = INTEGER(on_feature);
    data->missing_start = INTEGER(missing_start);
    data->missing_feature = INTEGER(missing_feature);
    /* What the samplers index with, checked once per use of the view. */
    const char *problem = data_check(data, (long)XLENGTH(on_feature),
                                     (long)XLENGTH(missing_feature));
    if (problem != NULL)
        Rf_error("`view` is not a valid dataview: %s; make it again with "
                 "dataview().", problem);
}

/* Counts of each group's observed ones and zeros, for a state built in R
 * from a view and group labels (1..n + LABEL_SLACK: a saved state's ids).
 * Returns list(groups, group_sizes, heads, tails) with groups in
 * increasing order. */
SEXP C_group_counts(SEXP view, SEXP assignment) {
    data_t data;
    data_from_view(view, &data);
    if (TYPEOF(assignment) != INTSXP || XLENGTH(assignment) != data.n)
        Rf_error("`assignment` must be an integer vector of length %d.", data.n);
    const int n = data.n, D = data.D, *label = INTEGER(assignment);
    const int max_label = n + LABEL_SLACK;
    int *group_index = (int *)R_alloc((size_t)max_label + 1, sizeof(int));
    for (int g = 0; g <= max_label; g++) group_index[g] = -1;
    for (int i = 0; i < n; i++) {
        if (label[i] == NA_INTEGER || label[i] < 1 || label[i] > max_label)
            Rf_error("`assignment` labels must lie between 1 and %d.", max_label);
        group_index[label[i]] = 0;
    }
    int K = 0;
    for (int g = 1; g <= max_label; g++)
        if (group_index[g] == 0) group_index[g] = K++;

    const char *names[] = {"groups", "group_sizes", "heads", "tails", ""};
    SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
    SEXP groups = SET_VECTOR_ELT(out, 0, Rf_allocVector(INTSXP, K));
    SEXP sizes = SET_VECTOR_ELT(out, 1, Rf_allocVector(INTSXP, K));
    SEXP heads = SET_VECTOR_ELT(out, 2, Rf_allocMatrix(INTSXP, K, D));
    SEXP tails = SET_VECTOR_ELT(out, 3, Rf_allocMatrix(INTSXP, K, D));
    for (int g = 1; g <= max_label; g++)
        if (group_index[g] >= 0) INTEGER(groups)[group_index[g]] = g;
    memset(INTEGER(sizes), 0, (size_t)K * sizeof(int));
    memset(INTEGER(heads), 0, (size_t)K * D * sizeof(int));
    memset(INTEGER(tails), 0, (size_t)K * D * sizeof(int));
    for (int i = 0; i < n; i++) {
        const int k = group_index[label[i]];
        const uint8_t *row = data.codes + (size_t)i * D;
        INTEGER(sizes)[k]++;
        for (int d = 0; d < D; d++) {
            INTEGER(heads)[k + (R_xlen_t)d * K] += row[d] == CODE_ON;
            INTEGER(tails)[k + (R_xlen_t)d * K] += row[d] == CODE_OFF;
        }
    }
    UNPROTECT(1);
    return out;
}

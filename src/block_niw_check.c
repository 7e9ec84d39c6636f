/* check() of the niw block (block_niw.h): every slot's statistics against
 * a two-pass recount from the data, and its cached factor and constants
 * against a fresh factorisation of its statistics, to relative tolerances
 * (the updates and downdates round differently from a recount). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "block_niw.h"

static int close_to(double a, double b, double scale) {
    return fabs(a - b) <= 1e-8 * (scale + fabs(a) + fabs(b));
}

static const char *const messages[] = {
    "niw: a slot's count differs from a recount",
    "niw: a slot's mean or scatter differs from a recount",
    "niw: a slot's factor or constants differ from its statistics",
    "niw: out of memory",
    "niw: a slot's posterior scale is not positive definite"};

static const char *check_feature(const block_t *b, const partition_view_t *p,
                                 int j) {
    const niw_feature_t *f = &NIW(b)->features[j];
    const int d = f->dim;
    const size_t K = p->slot_span, T = niw_table_size(d);
    int *count = ms_calloc(K + 1, sizeof(int));
    double *mean = ms_calloc(K * d + 1, sizeof(double));
    double *S = ms_calloc(K * d * d + 1, sizeof(double));
    double *table = ms_malloc(sizeof(double) * T);
    const char *problem = NULL;
    if (count == NULL || mean == NULL || S == NULL || table == NULL) {
        problem = messages[3];
        goto done;
    }
    for (int i = 0; i < p->n; i++) {
        const int k = p->group_of_row[i];
        const double *x = niw_cell(b, f, i);
        if (k < 0 || x == NULL) continue;
        count[k]++;
        for (int c = 0; c < d; c++) mean[(size_t)k * d + c] += x[c];
    }
    for (size_t k = 0; k < K; k++)
        for (int c = 0; c < d; c++)
            if (count[k] > 0) mean[k * d + c] /= count[k];
    for (int i = 0; i < p->n; i++) {
        const int k = p->group_of_row[i];
        const double *x = niw_cell(b, f, i);
        if (k < 0 || x == NULL) continue;
        const double *m = mean + (size_t)k * d;
        for (int r = 0; r < d; r++)
            for (int c = 0; c < d; c++)
                S[((size_t)k * d + r) * d + c] += (x[r] - m[r]) * (x[c] - m[c]);
    }
    for (size_t k = 0; k < K && problem == NULL; k++) {
        if (count[k] != f->count[k]) {
            problem = messages[0];
            break;
        }
        for (int r = 0; r < d && problem == NULL; r++) {
            const double sr = f->scale[r];
            if (!close_to(mean[k * d + r], f->mean[k * d + r], sr))
                problem = messages[1];
            for (int c = 0; c < d; c++)
                if (!close_to(S[(k * d + r) * d + c], f->scatter[(k * d + r) * d + c],
                              sr * f->scale[c] * (count[k] + 1)))
                    problem = messages[1];
        }
        if (problem != NULL) break;
        if (niw_table_from_stats(niw_hp(b, j), d, f->count[k],
                                 f->mean + k * d, f->scatter + k * d * d,
                                 table) != 0) {
            problem = messages[4];
            break;
        }
        /* Entries of L and mu_n are in the data's units: an absolute
         * floor from the factor's largest diagonal entry, so that an
         * entry near 0 compares by the matrix's scale. */
        const double *mine = f->table + k * T;
        const double *L = table + NIW_SCALARS + 2 * (size_t)d;
        double floor_ = 0.0;
        for (int i = 0; i < d; i++)
            floor_ = fmax(floor_, fabs(L[(size_t)i * d + i]));
        for (size_t i = 0; i < T; i++) {
            const double tol = 1e-7 * (fabs(table[i]) + fabs(mine[i])) +
                               (i < NIW_SCALARS ? 1e-9 : 1e-9 * floor_);
            if (!(fabs(table[i] - mine[i]) <= tol)) problem = messages[2];
        }
    }
done:
    free(count);
    free(mean);
    free(S);
    free(table);
    return problem;
}

const char *niw_check(const block_t *b, const partition_view_t *p) {
    if (p->n == 0) return NULL;
    for (int j = 0; j < b->n_features; j++) {
        const char *problem = check_feature(b, p, j);
        if (problem != NULL) return problem;
    }
    return NULL;
}

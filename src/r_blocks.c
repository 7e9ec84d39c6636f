/* .Call glue: reading a list of packed blocks (CONTRACT.md, "Packed
 * blocks"; R's pack_blocks()) and their hyperparameters into the block
 * specs that state_init builds a state from. Everything is checked and
 * read here, raising R errors, before the caller allocates any C memory;
 * the specs point into the R vectors (kept alive by the runner's pointer)
 * and into R_alloc'ed arrays that state_init copies. */
#include <math.h>
#include <string.h>
#include "r_glue.h"
#include "r_blocks.h"
#include "status.h"

void data_from_view(SEXP view, data_t *data);

int blocks_is_list(SEXP view) {
    return TYPEOF(view) == VECSXP && XLENGTH(view) > 0 &&
           TYPEOF(VECTOR_ELT(view, 0)) == VECSXP &&
           list_get(VECTOR_ELT(view, 0), "kind") != R_NilValue;
}

/* A packed column vector of n x C cells (C packed columns per row), or
 * NULL. */
static const void *cells(SEXP block, const char *name, int type, int n,
                         int C, int b) {
    SEXP x = list_get(block, name);
    if (x == R_NilValue) return NULL;
    if (TYPEOF(x) != type || XLENGTH(x) != (R_xlen_t)n * C)
        Rf_error("`view`: block %d's `%s` must be a vector of n x C = %d x %d "
                 "cells.", b + 1, name, n, C);
    return type == INTSXP ? (const void *)INTEGER(x) : (const void *)REAL(x);
}

static const void *per_feature(SEXP block, const char *name, int type, int F,
                               int b) {
    SEXP x = list_get(block, name);
    if (x == R_NilValue) return NULL;
    if (TYPEOF(x) != type || XLENGTH(x) != F)
        Rf_error("`view`: block %d's `%s` must have one entry per feature.",
                 b + 1, name);
    return type == INTSXP ? (const void *)INTEGER(x) : (const void *)REAL(x);
}

int blocks_read(SEXP blocks, SEXP hps, packed_blocks_t *out) {
    memset(out, 0, sizeof(*out));
    const int n_blocks = (int)XLENGTH(blocks);
    if (n_blocks > N_BLOCK_KINDS)
        Rf_error("`view` holds more blocks than there are model kinds.");
    if (TYPEOF(hps) != VECSXP || XLENGTH(hps) != n_blocks)
        Rf_error("`latent`: feature hyperparameters must be a list of one "
                 "entry per block (%d).", n_blocks);
    out->n_blocks = n_blocks;
    out->n = -1;
    int D = 0, last_kind = -1;
    for (int b = 0; b < n_blocks; b++) {
        SEXP block = VECTOR_ELT(blocks, b);
        if (TYPEOF(block) != VECSXP)
            Rf_error("`view`: block %d is not a list; make the blocks with "
                     "pack_blocks().", b + 1);
        const int kind = list_get_int(block, "kind", "`view`");
        if (kind < 0 || kind >= N_BLOCK_KINDS || kind <= last_kind)
            Rf_error("`view`: block %d has kind %d; kinds must be distinct "
                     "ids 0..%d in increasing order.", b + 1, kind,
                     N_BLOCK_KINDS - 1);
        last_kind = kind;
        SEXP features = list_get(block, "features");
        if (TYPEOF(features) != INTSXP || XLENGTH(features) < 1)
            Rf_error("`view`: block %d's `features` must be feature ids.", b + 1);
        D += (int)XLENGTH(features);
    }
    if (D < 1) Rf_error("`view` holds no features.");
    out->D = D;
    int *seen = (int *)R_alloc((size_t)D, sizeof(int));
    memset(seen, 0, (size_t)D * sizeof(int));
    for (int b = 0; b < n_blocks; b++) {
        SEXP block = VECTOR_ELT(blocks, b);
        block_spec_t *spec = &out->specs[b];
        const int kind = list_get_int(block, "kind", "`view`");
        SEXP features = list_get(block, "features");
        const int F = (int)XLENGTH(features);
        int *ids = (int *)R_alloc((size_t)F, sizeof(int));
        for (int j = 0; j < F; j++) {
            const int d = INTEGER(features)[j];
            if (d == NA_INTEGER || d < 1 || d > D || seen[d - 1] ||
                (j > 0 && d <= INTEGER(features)[j - 1]))
                Rf_error("`view`: block %d's features must be increasing ids "
                         "between 1 and %d, each feature in one block.",
                         b + 1, D);
            seen[d - 1] = 1;
            ids[j] = d - 1;
        }
        int n;
        spec->kind = kind;
        spec->feature_id = ids;
        spec->data.n_features = F;
        if (kind == BLOCK_BETA_BERNOULLI) {
            data_from_view(list_get(block, "bb"), &out->bb_data);
            if (out->bb_data.D != F)
                Rf_error("`view`: the bb block's packed data hold %d "
                         "features, not %d.", out->bb_data.D, F);
            n = out->bb_data.n;
            out->has_bb = 1;
            spec->data.n_columns = F;
        } else {
            /* Optional `cell_width`: packed columns of each feature's
             * cell (vector-valued kinds); absent, every width is 1. */
            const int *width = per_feature(block, "cell_width", INTSXP, F, b);
            int C = F;
            if (width != NULL) {
                C = 0;
                for (int j = 0; j < F; j++) {
                    if (width[j] == NA_INTEGER || width[j] < 1 ||
                        width[j] > INT32_MAX / 2 - C)
                        Rf_error("`view`: block %d's `cell_width` must be "
                                 "whole numbers >= 1.", b + 1);
                    C += width[j];
                }
            }
            spec->data.cell_width = width;
            spec->data.n_columns = C;
            SEXP iv = list_get(block, "ivalues"), dv = list_get(block, "dvalues");
            SEXP source = iv != R_NilValue ? iv : dv;
            if (source == R_NilValue || XLENGTH(source) % C != 0)
                Rf_error("`view`: block %d has no `ivalues` or `dvalues` of "
                         "n x C cells (C = %d packed columns).", b + 1, C);
            n = (int)(XLENGTH(source) / C);
            spec->data.ivalues = cells(block, "ivalues", INTSXP, n, C, b);
            spec->data.dvalues = cells(block, "dvalues", REALSXP, n, C, b);
            spec->data.n_levels = per_feature(block, "n_levels", INTSXP, F, b);
            spec->data.parameter = per_feature(block, "parameter", REALSXP, F, b);
        }
        if (n < 1 || (out->n >= 0 && n != out->n))
            Rf_error("`view`: every block must hold the same rows (block %d "
                     "holds %d).", b + 1, n);
        out->n = n;
        spec->data.n = n;

        SEXP hp_block = VECTOR_ELT(hps, b);
        SEXP hp = list_get(hp_block, "hp"), offset = list_get(hp_block, "hp_offset");
        if (TYPEOF(hp) != REALSXP || TYPEOF(offset) != INTSXP ||
            XLENGTH(offset) != F + 1)
            Rf_error("`latent`: block %d's hyperparameters must be list(hp = "
                     "<double>, hp_offset = <integer, F + 1>).", b + 1);
        const int *off = INTEGER(offset);
        if (off[0] != 0 || off[F] != XLENGTH(hp))
            Rf_error("`latent`: block %d's hp_offset must run from 0 to the "
                     "length of hp.", b + 1);
        for (int j = 0; j < F; j++)
            if (off[j + 1] <= off[j] ||
                (kind == BLOCK_BETA_BERNOULLI && off[j + 1] - off[j] != 2))
                Rf_error("`latent`: block %d's hp_offset must increase (by 2 "
                         "for beta_bernoulli()).", b + 1);
        for (R_xlen_t j = 0; j < XLENGTH(hp); j++) {
            const double v = REAL(hp)[j];
            /* Each kind's ranges are the R side's to check; bb's are
             * checked here as for a binary view. */
            if (!isfinite(v) || fabs(v) > MS_MAX_HYPERPARAMETER ||
                (kind == BLOCK_BETA_BERNOULLI && !(v > 0)))
                Rf_error("`latent`: block %d's hyperparameters must be finite "
                         "(and > 0 for beta_bernoulli()), at most 1e15 in "
                         "size.", b + 1);
        }
        spec->hp_offset = off;
        spec->hp = REAL(hp);
    }
    return MS_OK;
}

void blocks_bind(packed_blocks_t *pb, const data_t *bb_data) {
    for (int b = 0; b < pb->n_blocks; b++)
        if (pb->specs[b].kind == BLOCK_BETA_BERNOULLI)
            pb->specs[b].data.bb = bb_data;
}

/* Per feature, in global order: its block's hyperparameter vector, and a
 * K x n_stats matrix of its statistics over the groups in `slots` (block
 * ops n_stats / get_stats; R names them by model). */
SEXP blocks_latent_hps(const state_t *st) {
    SEXP hps = PROTECT(Rf_allocVector(VECSXP, st->D));
    for (int d = 0; d < st->D; d++) {
        const block_t *blk = &st->blocks[st->feature_block[d]];
        const int j = st->feature_local[d];
        const int from = blk->hp_offset[j], to = blk->hp_offset[j + 1];
        SEXP v = SET_VECTOR_ELT(hps, d, Rf_allocVector(REALSXP, to - from));
        memcpy(REAL(v), blk->hp + from, (size_t)(to - from) * sizeof(double));
    }
    UNPROTECT(1);
    return hps;
}

SEXP blocks_latent_stats(const state_t *st, const int *slots, int K) {
    SEXP stats = PROTECT(Rf_allocVector(VECSXP, st->D));
    for (int d = 0; d < st->D; d++) {
        const block_t *blk = &st->blocks[st->feature_block[d]];
        const int j = st->feature_local[d];
        const int m = blk->ops->n_stats(blk, j);
        SEXP x = SET_VECTOR_ELT(stats, d, Rf_allocMatrix(REALSXP, K, m));
        double *one = (double *)R_alloc((size_t)m + 1, sizeof(double));
        for (int g = 0; g < K; g++) {
            blk->ops->get_stats(blk, slots[g], j, one);
            for (int c = 0; c < m; c++) REAL(x)[g + (R_xlen_t)c * K] = one[c];
        }
    }
    UNPROTECT(1);
    return stats;
}

SEXP blocks_feature_kinds(const state_t *st) {
    SEXP kinds = PROTECT(Rf_allocVector(INTSXP, st->D));
    for (int d = 0; d < st->D; d++)
        INTEGER(kinds)[d] = st->blocks[st->feature_block[d]].ops->kind;
    UNPROTECT(1);
    return kinds;
}

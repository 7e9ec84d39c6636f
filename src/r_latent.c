/* .Call glue for the latent cells of a chain's blocks (block.h: niw rows
 * partly missing, imputed by data augmentation): read into a saved state,
 * restored on resume before the statistics are compared with a recount,
 * and the tests' deliberately wrong variant. */
#include "r_glue.h"
#include "block_niw.h"
#include "chain.h"
#include "status.h"

chain_t *runner_chain(SEXP ptr);

/* One entry per feature: NULL, or list(rows = 1-based rows, values = the
 * rows' cells as the chain holds them, n_latent x width). */
SEXP C_runner_latent_cells(SEXP ptr) {
    const state_t *st = &runner_chain(ptr)->state;
    SEXP out = PROTECT(Rf_allocVector(VECSXP, st->D));
    const char *names[] = {"rows", "values", ""};
    for (int d = 0; d < st->D; d++) {
        const block_t *blk = &st->blocks[st->feature_block[d]];
        if (blk->ops->n_latent == NULL) continue;
        const int j = st->feature_local[d];
        const int m = blk->ops->n_latent(blk, j);
        if (m == 0) continue;
        const int w = blk->ops->cell_size(blk, j);
        SEXP one = SET_VECTOR_ELT(out, d, Rf_mkNamed(VECSXP, names));
        SEXP rows = SET_VECTOR_ELT(one, 0, Rf_allocVector(INTSXP, m));
        SEXP values = SET_VECTOR_ELT(one, 1, Rf_allocMatrix(REALSXP, m, w));
        double *cells = (double *)R_alloc((size_t)m * w, sizeof(double));
        blk->ops->get_latent(blk, j, INTEGER(rows), cells);
        for (int a = 0; a < m; a++) {
            INTEGER(rows)[a] += 1;
            for (int c = 0; c < w; c++)
                REAL(values)[a + (R_xlen_t)c * m] = cells[(size_t)a * w + c];
        }
    }
    UNPROTECT(1);
    return out;
}

/* Puts a saved state's latent cells back (R checked that rows and shapes
 * match C_runner_latent_cells of this runner), then recounts and rebuilds
 * each block that holds any, so that the statistics R compares with the
 * saved ones are those of the completed cells. */
SEXP C_runner_set_latent_cells(SEXP ptr, SEXP cells) {
    state_t *st = &runner_chain(ptr)->state;
    if (TYPEOF(cells) != VECSXP || XLENGTH(cells) != st->D)
        Rf_error("`latent`: its `latent_cells` must be one entry per feature.");
    for (int d = 0; d < st->D; d++) {
        block_t *blk = &st->blocks[st->feature_block[d]];
        SEXP x = VECTOR_ELT(cells, d);
        const int m = blk->ops->n_latent != NULL
                          ? blk->ops->n_latent(blk, st->feature_local[d]) : 0;
        if (m == 0) {
            if (x != R_NilValue)
                Rf_error("`latent`: feature %d has no partly missing rows.", d + 1);
            continue;
        }
        const int w = blk->ops->cell_size(blk, st->feature_local[d]);
        if (TYPEOF(x) != REALSXP || !Rf_isMatrix(x) || Rf_nrows(x) != m ||
            Rf_ncols(x) != w)
            Rf_error("`latent`: feature %d's latent cells must be a %d x %d "
                     "matrix.", d + 1, m, w);
    }
    for (int b = 0; b < st->n_blocks; b++) {
        block_t *blk = &st->blocks[b];
        if (blk->ops->n_latent == NULL) continue;
        int any = 0;
        for (int d = 0; d < st->D; d++) {
            if (st->feature_block[d] != b) continue;
            const int j = st->feature_local[d];
            const int m = blk->ops->n_latent(blk, j);
            if (m == 0) continue;
            const int w = blk->ops->cell_size(blk, j);
            const double *x = REAL(VECTOR_ELT(cells, d));
            double *one = (double *)R_alloc((size_t)m * w, sizeof(double));
            for (int a = 0; a < m; a++)
                for (int c = 0; c < w; c++)
                    one[(size_t)a * w + c] = x[a + (R_xlen_t)c * m];
            blk->ops->set_latent(blk, j, one);
            any = 1;
        }
        if (!any) continue;
        const partition_view_t p = state_view(st);
        blk->ops->recount(blk, &p);
        stop_on_status(blk->ops->rebuild(blk, &p), "runner()");
    }
    return R_NilValue;
}

/* Tests only: the niw block's latent draws from the unconditional
 * predictive (block_niw_latent.c), which the Geweke test must reject. */
SEXP C_runner_test_wrong_latent(SEXP ptr) {
    state_t *st = &runner_chain(ptr)->state;
    for (int b = 0; b < st->n_blocks; b++)
        if (st->blocks[b].ops->kind == BLOCK_NORMAL_INVERSE_WISHART)
            NIW(&st->blocks[b])->test_wrong_latent = 1;
    return R_NilValue;
}

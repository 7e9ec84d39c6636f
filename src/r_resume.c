/* .Call glue for resuming a mixed state (R/runner.R, mixed_runner): the
 * saved statistics of every non-bb feature are put back into the chain's
 * blocks as the sampler held them (block op set_stats), after R compared
 * them with the recount the runner was built from (DECISIONS.md: saved
 * states carry real-valued statistics as the sampler holds them). bb
 * statistics are whole numbers, equal to the recount: left as they are. */
#include "r_glue.h"
#include "chain.h"

chain_t *runner_chain(SEXP ptr);

SEXP C_runner_set_stats(SEXP ptr, SEXP slots, SEXP stats) {
    state_t *st = &runner_chain(ptr)->state;
    const int K = (int)XLENGTH(slots);
    if (TYPEOF(slots) != INTSXP || TYPEOF(stats) != VECSXP ||
        XLENGTH(stats) != st->D)
        Rf_error("`latent`: its statistics must be one matrix per feature.");
    for (int g = 0; g < K; g++) {
        const int k = INTEGER(slots)[g];
        if (k < 0 || k >= st->capacity || st->size[k] == 0)
            Rf_error("`latent`: group %d is not one of the chain's groups.", k + 1);
    }
    for (int d = 0; d < st->D; d++) {
        block_t *blk = &st->blocks[st->feature_block[d]];
        if (blk->ops->kind == BLOCK_BETA_BERNOULLI) continue;
        const int j = st->feature_local[d];
        const int m = blk->ops->n_stats(blk, j);
        SEXP x = VECTOR_ELT(stats, d);
        if (TYPEOF(x) != REALSXP || !Rf_isMatrix(x) || Rf_nrows(x) != K ||
            Rf_ncols(x) != m)
            Rf_error("`latent`: feature %d's statistics must be a %d x %d "
                     "matrix.", d + 1, K, m);
    }
    double *one = (double *)R_alloc((size_t)64 + 1, sizeof(double));
    int room = 64;
    for (int d = 0; d < st->D; d++) {
        block_t *blk = &st->blocks[st->feature_block[d]];
        if (blk->ops->kind == BLOCK_BETA_BERNOULLI) continue;
        const int j = st->feature_local[d];
        const int m = blk->ops->n_stats(blk, j);
        if (m > room) {
            one = (double *)R_alloc((size_t)m + 1, sizeof(double));
            room = m;
        }
        const double *x = REAL(VECTOR_ELT(stats, d));
        for (int g = 0; g < K; g++) {
            for (int c = 0; c < m; c++) one[c] = x[g + (R_xlen_t)c * K];
            blk->ops->set_stats(blk, INTEGER(slots)[g], j, one);
        }
    }
    return R_NilValue;
}

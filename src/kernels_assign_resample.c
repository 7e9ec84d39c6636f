/* Neal (2000), algorithm 8, for models with non-conjugate features
 * (explicit group parameters; block.h, the ops appended by issue 14).
 *
 * For each row i, in random order: with the row left out, each existing
 * group c is offered with the partition prior's weight of joining its
 * n_{-i,c} rows times F(y_i | phi_c), and m auxiliary groups, whose
 * parameters are drawn from the prior G0 (if i was alone in its group,
 * that group's phi is the first auxiliary and only m - 1 are drawn), each
 * with the new-group weight over m (alpha / m under the CRP; (K - K+)
 * alpha / (K m) in a finite mixture) times F(y_i | phi_aux). Neal's
 * equation (3.7) with the parameters of the unchosen auxiliaries thrown
 * away. Conjugate features of the same model keep their parameters
 * integrated out: an existing group scores their collapsed predictive
 * (the row left out of its own group), an auxiliary their prior
 * predictive, which is the collapsed predictive of an empty group. */
#include <math.h>
#include "kernels.h"
#include "status.h"

int state_has_nonconjugate(const state_t *st) {
    for (int b = 0; b < st->n_blocks; b++)
        if (st->blocks[b].ops->draw_auxiliary != NULL) return 1;
    return 0;
}

/* The conjugate blocks' score of the row against an empty slot (the
 * ghost): their prior predictive, what an auxiliary group scores. */
static double conjugate_new_group_score(const state_t *st, int row) {
    const partition_view_t p = state_view(st);
    double s = 0.0;
    for (int b = 0; b < st->n_blocks; b++) {
        const block_t *blk = &st->blocks[b];
        if (blk->ops->draw_auxiliary == NULL)
            s += blk->ops->score_slot(blk, &p, row, st->ghost);
    }
    return s;
}

int kernel_assign_resample(state_t *st, const kernel_t *kernel, rng_t *rng,
                           workspace_t *ws, const partition_prior_t *prior) {
    const int m = kernel->n_auxiliary;
    /* The auxiliaries' room, before any row moves. */
    for (int b = 0; b < st->n_blocks; b++) {
        block_t *blk = &st->blocks[b];
        if (blk->ops->reserve_auxiliary != NULL &&
            blk->ops->reserve_auxiliary(blk, m) != MS_OK)
            return MS_ERR_NOMEM;
    }
    partition_weights_t w;
    partition_weights_init(&w, prior, st->alpha, st->n, ws->log_int,
                           ws->log_join);
    const double log_m = log((double)m);
    shuffle_row_order(ws->order, st->n, rng);
    for (int step = 0; step < st->n; step++) {
        const int row = ws->order[step];
        const int own = st->group_of_row[row];
        const int own_is_singleton = st->size[own] == 1;
        const double log_new =
            partition_log_new(&w, st->n_active - own_is_singleton);
        const double log_auxiliary =
            kernel->test_wrong_auxiliary == RESAMPLE_TEST_FULL_ALPHA
                ? log_new
                : log_new - log_m;
        state_score_row_all(st, NULL, row);
        int n_candidates = 0;
        for (int j = 0; j < st->n_active; j++) {
            const int k = st->active[j];
            double log_weight;
            if (k == own) {
                /* Left out, a singleton's group is empty: its phi is
                 * offered as the first auxiliary instead. */
                if (own_is_singleton) continue;
                log_weight = w.log_join[st->size[k] - 1] +
                             state_score_row_loo(st, NULL, row);
            } else {
                log_weight = w.log_join[st->size[k]] + st->scores[k];
            }
            ws->candidates[n_candidates] = k;
            ws->log_weights[n_candidates++] = log_weight;
        }
        /* A finite mixture with every label in use offers no new group
         * (never so for a singleton: its own label frees up). */
        const int reuse_own = own_is_singleton &&
                              kernel->test_wrong_auxiliary != RESAMPLE_TEST_NO_REUSE;
        if (log_new > -INFINITY) {
            const double conjugate = conjugate_new_group_score(st, row);
            for (int a = 0; a < m; a++) ws->aux_scores[a] = conjugate;
            for (int b = 0; b < st->n_blocks; b++) {
                block_t *blk = &st->blocks[b];
                if (blk->ops->draw_auxiliary == NULL) continue;
                if (reuse_own) blk->ops->auxiliary_from_slot(blk, 0, own);
                for (int a = reuse_own; a < m; a++)
                    blk->ops->draw_auxiliary(blk, a, rng);
                blk->ops->score_auxiliary(blk, row, m, ws->aux_scores, 1);
            }
            for (int a = 0; a < m; a++) {
                ws->candidates[n_candidates] = -1 - a;
                ws->log_weights[n_candidates++] =
                    log_auxiliary + ws->aux_scores[a];
            }
        }
        const int chosen = ws->candidates[rng_categorical_log(
            rng, ws->log_weights, n_candidates, ws->weights)];
        if (chosen == own) continue;
        if (chosen >= 0) {
            /* An existing group: it is active, so no slot is made. */
            state_remove_row(st, NULL, row);
            int status = state_add_row(st, NULL, row, chosen);
            if (status) return status;
            continue;
        }
        const int a = -1 - chosen;
        if (own_is_singleton) {
            /* A singleton taking a new group stays in its slot with the
             * auxiliary's parameters (the same partition; no slot). */
            if (a == 0 && reuse_own) continue;
            for (int b = 0; b < st->n_blocks; b++) {
                block_t *blk = &st->blocks[b];
                if (blk->ops->adopt_auxiliary != NULL)
                    blk->ops->adopt_auxiliary(blk, a, own);
            }
            continue;
        }
        /* Before the row leaves its group: a failure then leaves the state
         * as if this move had not started. */
        if (state_reserve_slot(st) != MS_OK) return MS_ERR_NOMEM;
        const int ghost = st->ghost;
        state_remove_row(st, NULL, row);
        for (int b = 0; b < st->n_blocks; b++) {
            block_t *blk = &st->blocks[b];
            if (blk->ops->adopt_auxiliary != NULL)
                blk->ops->adopt_auxiliary(blk, a, ghost);
        }
        int status = state_add_row(st, NULL, row, ghost);
        if (status) return status;
    }
    return MS_OK;
}

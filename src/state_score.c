/* Scoring a row against the groups through the blocks (state.h), and the
 * data's log marginal given the partition. */
#include "block_bb.h"
#include "score.h"
#include "state_internal.h"

void state_score_row_all(state_t *st, const data_t *data, int row) {
    (void)data;
    const partition_view_t p = state_view(st);
    if (st->n_blocks == 0) {
        for (int k = 0; k < st->slot_span; k++) st->scores[k] = 0.0;
        return;
    }
    for (int b = 0; b < st->n_blocks; b++)
        st->blocks[b].ops->score_all(&st->blocks[b], &p, row, st->scores,
                                     b > 0);
}

double state_score_row_loo(const state_t *st, const data_t *data, int row) {
    (void)data;
    const partition_view_t p = state_view(st);
    const int k = st->group_of_row[row];
    double score = 0.0;
    for (int b = 0; b < st->n_blocks; b++) {
        const double s =
            st->blocks[b].ops->score_slot_loo(&st->blocks[b], &p, row, k);
        score = b == 0 ? s : score + s;
    }
    return score;
}

/* The bb block sums feature by feature (score_feature over the active
 * groups, or its terms as bb_terms holds them), the order today's log
 * joint has always used; the other kinds sum their groups' closed-form
 * marginals. */
double state_data_log_marginal_from(const state_t *st, int *heads,
                                    int *tails, const double *bb_terms) {
    const partition_view_t p = state_view(st);
    double score = 0.0;
    for (int b = 0; b < st->n_blocks; b++) {
        const block_t *blk = &st->blocks[b];
        if (blk->ops->kind == BLOCK_BETA_BERNOULLI) {
            const bb_block_t *bb = bb_of(blk);
            for (int d = 0; d < bb->D; d++) {
                if (bb_terms != NULL) {
                    score += bb_terms[d];
                    continue;
                }
                bb_gather_feature_counts(bb, &p, d, heads, tails);
                score += score_feature(heads, tails, st->n_active, bb->a[d],
                                       bb->b[d]);
            }
        } else {
            for (int j = 0; j < st->n_active; j++)
                score += blk->ops->group_log_marginal(blk, &p, st->active[j]);
        }
    }
    return score;
}

double state_data_log_marginal(const state_t *st, int *heads, int *tails) {
    return state_data_log_marginal_from(st, heads, tails, NULL);
}

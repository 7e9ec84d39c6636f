#include <math.h>
#include "kernels.h"
#include "status.h"
#include "sweep_pair.h"

void shuffle_row_order(int *order, int n, rng_t *rng) {
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(rng, (uint32_t)(i + 1));
        int tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
}

static int assign_sweep(state_t *st, const data_t *data, rng_t *rng,
                        workspace_t *ws, const partition_prior_t *prior,
                        sweep_pair_t *pair) {
    partition_weights_t w;
    partition_weights_init(&w, prior, st->alpha, st->n, ws->log_int,
                           ws->log_join);
    shuffle_row_order(ws->order, st->n, rng);
    for (int step = 0; step < st->n; step++) {
        const int row = ws->order[step];
        const int own = st->group_of_row[row];
        const int own_is_singleton = st->size[own] == 1;
        /* The row left out, the other rows fill K+ - [own is a singleton]
         * groups: the new-group weight (alpha, or (K - K+) alpha/K). */
        const double log_new =
            partition_log_new(&w, st->n_active - own_is_singleton);
        /* Every slot at once: a vectorised pass over the feature-major
         * table, cheaper than one sparse gather per group. */
        if (pair != NULL) sweep_pair_score_row(pair, row);
        else state_score_row_all(st, data, row);
        int n_candidates = 0;
        for (int j = 0; j < st->n_active; j++) {
            const int k = st->active[j];
            double log_weight;
            if (k == own) {
                /* Left out, a singleton's group is empty: it is then the new
                 * group on offer, with weight alpha (algorithm 3). */
                log_weight = (own_is_singleton ? log_new
                                               : w.log_join[st->size[k] - 1]) +
                             state_score_row_loo(st, data, row);
            } else {
                log_weight = w.log_join[st->size[k]] + st->scores[k];
            }
            ws->candidates[n_candidates] = k;
            ws->log_weights[n_candidates++] = log_weight;
        }
        /* A finite mixture with every label in use offers no new group. */
        if (!own_is_singleton && log_new > -INFINITY) {
            ws->candidates[n_candidates] = st->ghost;
            ws->log_weights[n_candidates++] = log_new + st->scores[st->ghost];
        }
        const int chosen = ws->candidates[rng_categorical_log(
            rng, ws->log_weights, n_candidates, ws->weights)];
        if (chosen == own) continue;
        /* Before the row leaves its group: a failure then leaves the state
         * as if this move had not started. */
        if (chosen == st->ghost && state_reserve_slot(st) != MS_OK)
            return MS_ERR_NOMEM;
        state_remove_row(st, data, row);
        int status = state_add_row(st, data, row, chosen);
        if (status) return status;
    }
    return MS_OK;
}

/* The sweep on the chain's thread, with a helper scoring half of each
 * row's slots when the chain has a thread to spare and enough groups
 * (sweep_pair.h): the same draws either way. */
int kernel_assign(state_t *st, const data_t *data, rng_t *rng,
                  workspace_t *ws, const partition_prior_t *prior) {
    sweep_pair_t *pair =
        ws->threads > 1 && sweep_pair_applies(st) ? sweep_pair_start(st) : NULL;
    const int status = assign_sweep(st, data, rng, ws, prior, pair);
    sweep_pair_stop(pair);
    return status;
}

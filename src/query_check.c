/* Validation of the states of a query: what R cannot see after coercion.
 * The predictive tables take logs of these numbers, so a size < 1, a
 * negative count or a non-positive hyperparameter would give NaN weights
 * instead of an error naming the state. */
#include <math.h>

#include "query.h"
#include "status.h"

int query_check_states(const query_problem_t *p, const char **reason) {
    int D = p->D;
    for (int s = 0; s < p->n_states; s++) {
        const query_state_t *st = &p->states[s];
        if (st->K < 0) {
            *reason = "a negative number of groups";
            return s + 1;
        }
        if (!(isfinite(st->alpha) && st->alpha > 0 &&
              st->alpha <= MS_MAX_HYPERPARAMETER)) {
            *reason = "a cluster concentration `alpha` that is not > 0 and <= 1e15";
            return s + 1;
        }
        for (int i = 0; i < 2 * D; i++) {
            if (!(isfinite(st->hp[i]) && st->hp[i] > 0 &&
                  st->hp[i] <= MS_MAX_HYPERPARAMETER)) {
                *reason = "feature hyperparameters that are not > 0 and <= 1e15";
                return s + 1;
            }
        }
        for (int k = 0; k < st->K; k++) {
            if (st->size[k] < 1) {
                *reason = "a group size < 1";
                return s + 1;
            }
        }
        for (int d = 0; d < D; d++) {
            for (int k = 0; k < st->K; k++) {
                long idx = (long)k + (long)d * st->K;
                int h = st->heads[idx], t = st->tails[idx];
                if (h < 0 || t < 0 || (long)h + (long)t > (long)st->size[k]) {
                    *reason = "heads or tails counts that are negative or exceed the group size";
                    return s + 1;
                }
            }
        }
    }
    return 0;
}

/* A from-scratch audit of a chain's state: the slot bookkeeping and the
 * group of each row are checked here, then every feature block recounts
 * its statistics from its data and recomputes its cached tables (block ops
 * `check`). Tests reach it through get_latent() with
 * options(microscopes.check_state = TRUE). */
#include <stdlib.h>
#include "state_internal.h"

static const char *check_rows(const state_t *st) {
    int *size = calloc((size_t)st->capacity + 1, sizeof(int));
    if (!size) return "out of memory while checking";
    const char *problem = NULL;
    for (int i = 0; i < st->n; i++) {
        const int k = st->group_of_row[i];
        if (k < 0 || k >= st->capacity || !st->in_use[k] || k == st->ghost) {
            problem = "a row is not in an active slot";
            break;
        }
        size[k]++;
    }
    for (int k = 0; k < st->capacity && !problem; k++)
        if (size[k] != st->size[k]) problem = "a slot's size differs from its rows";
    free(size);
    return problem;
}

static const char *check_slots(const state_t *st) {
    int n_in_use = 0;
    for (int k = 0; k < st->capacity; k++) {
        n_in_use += st->in_use[k];
        if (st->in_use[k] && k >= st->slot_span) return "a slot in use lies beyond slot_span";
        if ((st->size[k] > 0) != (st->position[k] >= 0))
            return "the active list and the sizes disagree";
        if (st->position[k] >= 0 && st->active[st->position[k]] != k)
            return "the active list and the positions disagree";
    }
    if (st->ghost < 0 || !st->in_use[st->ghost] || st->size[st->ghost] != 0)
        return "there is no empty ghost slot";
    if (n_in_use != st->n_active + 1) return "slots in use are not the active ones and the ghost";
    if (st->slot_span % SLOT_BLOCK != 0 || st->slot_span > st->capacity)
        return "slot_span is not a block multiple within capacity";
    return NULL;
}

const char *state_check(const state_t *st, const data_t *data) {
    (void)data; /* each block checks against its own */
    const char *problem = check_slots(st);
    if (problem == NULL) problem = check_rows(st);
    const partition_view_t p = state_view(st);
    for (int b = 0; b < st->n_blocks && problem == NULL; b++)
        problem = st->blocks[b].ops->check(&st->blocks[b], &p);
    return problem;
}

/* The blocks' standalone self-tests (tools/<kind>_selftest.c) drive a block
 * through a fake partition: the slot sizes, the group of each row, the
 * active list, the ghost and the slot span that a state keeps, recomputed
 * after every move. Header-only (static inline functions), included by each
 * self-test after block.h. */
#ifndef MICROSCOPES_FAKE_PARTITION_H
#define MICROSCOPES_FAKE_PARTITION_H

#include <stdlib.h>
#include "../src/block.h"

typedef struct {
    int n, capacity;
    int *size, *group, *active;
    partition_view_t view;
} fake_t;

static inline void fake_refresh(fake_t *f) {
    int m = 0, ghost = -1, span = 0;
    for (int k = 0; k < f->capacity; k++) {
        if (f->size[k] > 0) {
            f->active[m++] = k;
            span = k + 1;
        } else if (ghost < 0) {
            ghost = k;
        }
    }
    f->view.n_active = m;
    f->view.ghost = ghost;
    f->view.slot_span = ghost + 1 > span ? ghost + 1 : span;
}

static inline void fake_init(fake_t *f, int n, int capacity) {
    f->n = n;
    f->capacity = capacity;
    f->size = calloc(capacity, sizeof(int));
    f->group = malloc(sizeof(int) * n);
    f->active = malloc(sizeof(int) * capacity);
    for (int i = 0; i < n; i++) f->group[i] = -1;
    f->view = (partition_view_t){n, capacity, 0, f->size, f->group,
                                 f->active, 0, 0};
    fake_refresh(f);
}

static inline void fake_free(fake_t *f) {
    free(f->size);
    free(f->group);
    free(f->active);
}

static inline void fake_assign(fake_t *f, block_t *b, int row, int k) {
    f->size[k]++;
    f->group[row] = k;
    b->ops->add_row(b, &f->view, row, k);
    fake_refresh(f);
}

static inline void fake_unassign(fake_t *f, block_t *b, int row) {
    const int k = f->group[row];
    f->size[k]--;
    f->group[row] = -1;
    b->ops->remove_row(b, &f->view, row, k);
    if (f->size[k] == 0) b->ops->clear_slot(b, &f->view, k);
    fake_refresh(f);
}

#endif

/* block_init (block.h): the one place that knows every kind's
 * constructor. */
#include <string.h>
#include "block.h"
#include "block_bb.h"
#include "status.h"

/* A block whose init failed (or whose kind is unknown) is freed by
 * b->ops->free, so every kind sets ops first. */
static void unknown_free(block_t *b) { (void)b; }
static const block_ops_t unknown_ops = {.kind = -1, .name = "unknown",
                                        .free = unknown_free};

int block_init(block_t *b, int kind, const block_data_t *data,
               const int *feature_id, const int *hp_offset, const double *hp,
               int capacity) {
    memset(b, 0, sizeof(*b));
    b->ops = &unknown_ops;
    switch (kind) {
    case BLOCK_BETA_BERNOULLI:
        return block_bb_init(b, data, feature_id, hp_offset, hp, capacity);
    default:
        /* The other kinds' constructors join here (block_changes.md). */
        return MS_ERR_UNSUPPORTED;
    }
}

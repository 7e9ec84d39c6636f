/* block_init (block.h): the copies every kind shares, then the kind's
 * setup, found in the table of kinds. */
#include <string.h>
#include "alloc.h"
#include "block.h"
#include "block_bb.h"
#include "block_kinds.h"
#include "block_util.h"
#include "status.h"

typedef struct {
    const block_ops_t *ops;
    int (*setup)(block_t *b, int capacity);
} block_kind_t;

static const block_kind_t kinds[N_BLOCK_KINDS] = {
    [BLOCK_BETA_BERNOULLI] = {&block_bb_ops, block_bb_setup},
    [BLOCK_DIRICHLET_DISCRETE] = {&block_dd_ops, block_dd_setup},
    [BLOCK_GAMMA_POISSON] = {&block_gp_ops, block_gp_setup},
    [BLOCK_BETA_NEGATIVE_BINOMIAL] = {&block_bnb_ops, block_bnb_setup},
    [BLOCK_NORMAL_INVERSE_CHISQ] = {&block_nich_ops, block_nich_setup},
    [BLOCK_NORMAL_INVERSE_WISHART] = {&block_niw_ops, block_niw_setup},
    [BLOCK_DIRICHLET_MULTINOMIAL] = {&block_dm_ops, block_dm_setup},
    [BLOCK_BETA_BERNOULLI_NONCONJ] = {&block_bbnc_ops, block_bbnc_setup},
};

/* Holds a block of an unknown kind so that b->ops->free(b) stays safe;
 * the glue validates kinds, so reaching it is a programming error. */
static const block_ops_t unknown_ops = {
    .kind = -1, .name = "unknown", .free = block_free_common};

int block_kind_is_vector(int kind) {
    return kind == BLOCK_NORMAL_INVERSE_WISHART ||
           kind == BLOCK_DIRICHLET_MULTINOMIAL;
}

const block_ops_t *block_kind_ops(int kind) {
    return kind >= 0 && kind < N_BLOCK_KINDS ? kinds[kind].ops : NULL;
}

int block_kind_n_hp(int kind, const block_data_t *data, int j) {
    switch (kind) {
    case BLOCK_DIRICHLET_DISCRETE: return data->n_levels[j];
    case BLOCK_NORMAL_INVERSE_CHISQ: return 4;
    case BLOCK_NORMAL_INVERSE_WISHART: {
        /* mu0 (d), lambda, psi (d x d), nu. */
        const int d = data->cell_width != NULL ? data->cell_width[j] : 1;
        return d * d + d + 2;
    }
    case BLOCK_DIRICHLET_MULTINOMIAL: return data->cell_width[j];
    default: return 2;
    }
}

int block_init(block_t *b, int kind, const block_data_t *data,
               const int *feature_id, const int *hp_offset, const double *hp,
               int capacity) {
    memset(b, 0, sizeof(*b));
    b->ops = &unknown_ops;
    if (kind < 0 || kind >= N_BLOCK_KINDS || kinds[kind].ops == NULL)
        return MS_ERR_UNSUPPORTED;
    b->ops = kinds[kind].ops;
    b->data = *data;
    const int F = data->n_features;
    b->n_features = F;
    /* Scalar kinds leave the widths out: one packed column per feature. */
    if (b->data.cell_width == NULL) b->data.n_columns = F;
    int *ids = ms_malloc(sizeof(int) * (size_t)(F > 0 ? F : 1));
    b->feature_id = ids;
    b->hp_offset = ms_malloc(sizeof(int) * (size_t)(F + 1));
    if (ids == NULL || b->hp_offset == NULL) return MS_ERR_NOMEM;
    memcpy(ids, feature_id, sizeof(int) * (size_t)F);
    memcpy(b->hp_offset, hp_offset, sizeof(int) * (size_t)(F + 1));
    const int n_hp = hp_offset[F];
    b->hp = ms_malloc(sizeof(double) * (size_t)(n_hp > 0 ? n_hp : 1));
    if (b->hp == NULL) return MS_ERR_NOMEM;
    memcpy(b->hp, hp, sizeof(double) * (size_t)n_hp);
    return kinds[kind].setup(b, capacity);
}

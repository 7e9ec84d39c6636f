/* Feature blocks: the seam between the partition and the likelihoods.
 *
 * A chain's state (state.h) is the partition bookkeeping (slots, sizes, the
 * active list, the ghost, the group of each row) plus one feature block per
 * likelihood kind present in the model definition. A block holds every
 * feature of its kind: their packed data, their per-slot sufficient
 * statistics, cached tables that make a score cheap, and their
 * hyperparameters. The partition calls a block through its operations
 * table once per block per row (never per feature), so a block's inner
 * loops run over its own features with no dispatch.
 *
 * Blocks are scored in a fixed order (beta-Bernoulli first); the first
 * block writes a row's scores and the others add theirs, so a definition
 * with one block computes exactly what that block computes alone.
 *
 * Conventions every operation follows:
 * - slots are the partition's (0 .. capacity), a block keeps per-slot
 *   arrays of the partition's capacity (grown through `grow`);
 * - `add_row` / `remove_row` are called after the partition has changed
 *   `size[k]` (so the block sees the size that includes the move) and
 *   never change group_of_row;
 * - a free slot has zero statistics; `clear_slot` also resets its tables
 *   to those of an empty group under the current hyperparameters;
 * - scores and log marginals are full log densities, constants included,
 *   with a missing cell (NA) left out of every term;
 * - operations never allocate except `grow`, `rebuild` and `init`, and
 *   never call R (they run in worker threads). */
#ifndef MICROSCOPES_BLOCK_H
#define MICROSCOPES_BLOCK_H

#include <stddef.h>
#include <stdint.h>
#include "rng.h"

/* Likelihood kinds, in scoring order. */
enum {
    BLOCK_BETA_BERNOULLI = 0,       /* bb */
    BLOCK_DIRICHLET_DISCRETE = 1,   /* dd */
    BLOCK_GAMMA_POISSON = 2,        /* gp */
    BLOCK_BETA_NEGATIVE_BINOMIAL = 3, /* bnb */
    BLOCK_NORMAL_INVERSE_CHISQ = 4, /* nich */
    /* Vector-valued and non-conjugate kinds (issue 14) come after the
     * scalar conjugate ones, so that a definition without them scores in
     * the same order as before. */
    BLOCK_NORMAL_INVERSE_WISHART = 5,   /* niw: a cell is dim reals */
    BLOCK_DIRICHLET_MULTINOMIAL = 6,    /* dm: a cell is k counts */
    BLOCK_BETA_BERNOULLI_NONCONJ = 7,   /* bbnc: explicit group p */
    N_BLOCK_KINDS = 8
};

/* Missing cells in packed columns. */
#define BLOCK_INT_NA INT32_MIN

/* What a block may read of the partition (owned by the state). */
typedef struct {
    int n;                  /* rows */
    int capacity;           /* slots allocated */
    int slot_span;          /* every slot in use is below this */
    const int *size;        /* rows in each slot */
    const int *group_of_row;
    const int *active;      /* ids of the non-empty slots */
    int n_active;
    int ghost;              /* the empty slot offered as a new group */
} partition_view_t;

/* A block's packed data: its columns, row-major (row i's cells of the
 * block's features are contiguous), read-only and shared by every chain.
 * A feature's cell is cell_width[j] packed columns (a vector-valued
 * feature: niw's dim reals, dm's k counts), so a row holds n_columns =
 * sum of the widths values; every scalar kind has cell_width NULL (each
 * width 1) and n_columns == n_features. Feature j's columns of row i start
 * at i * n_columns + (sum of the widths before j). */
typedef struct {
    int n, n_features;
    const int32_t *ivalues;     /* n x n_columns, or NULL: dd levels
                                 * 0..k-1, gp / bnb / dm counts >= 0;
                                 * BLOCK_INT_NA for a missing cell */
    const double *dvalues;      /* n x n_columns, or NULL: nich, niw; NaN
                                 * for a missing cell */
    const int *n_levels;        /* dd: k of each feature, else NULL */
    const double *parameter;    /* bnb: r of each feature, else NULL */
    const void *bb;             /* bb: the data_t of data.h */
    /* Last, so that positional initializers of scalar kinds stay valid. */
    const int *cell_width;      /* n_features, or NULL: every width 1 */
    int n_columns;              /* packed columns per row */
} block_data_t;

typedef struct block block_t;

typedef struct {
    int kind;
    const char *name;       /* "bb", "dd", ... as in datamicroscopes */

    /* Per-slot arrays to new_capacity (zeroed new slots). MS_OK or
     * MS_ERR_NOMEM; on failure what did grow stays valid and owned. */
    int (*grow)(block_t *b, int old_capacity, int new_capacity);
    /* Zero statistics and an empty group's tables in slot k. */
    void (*clear_slot)(block_t *b, const partition_view_t *p, int k);
    /* Count row into / out of slot k's statistics and tables. */
    void (*add_row)(block_t *b, const partition_view_t *p, int row, int k);
    void (*remove_row)(block_t *b, const partition_view_t *p, int row,
                       int k);
    /* scores[k] (= or +=, by `accumulate`) log p(row's cells | group in
     * slot k) for every active slot and the ghost; entries of other slots
     * below slot_span may be anything. The row's own slot gets the score
     * with the row counted twice: use score_slot_loo for it. */
    void (*score_all)(block_t *b, const partition_view_t *p, int row,
                      double *scores, int accumulate);
    /* log p(row | rows counted in k), row not counted in k. */
    double (*score_slot)(const block_t *b, const partition_view_t *p,
                         int row, int k);
    /* log p(row | the other rows counted in k), row counted in k. */
    double (*score_slot_loo)(const block_t *b, const partition_view_t *p,
                             int row, int k);
    /* Closed-form log marginal of the rows counted in slot k, all of the
     * block's features (0 for an empty slot). */
    double (*group_log_marginal)(const block_t *b, const partition_view_t *p,
                                 int k);
    /* Recompute every table of the slots in use after hyperparameters
     * changed (set through set_hp). MS_OK or MS_ERR_NOMEM. */
    int (*rebuild)(block_t *b, const partition_view_t *p);

    /* Hyperparameters of local feature j: hp_offset[j] .. hp_offset[j+1]
     * of b->hp. set_hp checks nothing (the glue validates) and leaves the
     * tables stale until rebuild. */
    void (*set_hp)(block_t *b, int j, const double *hp);
    /* The hyperparameter kernel's target for feature j at hyperparameters
     * `hp` (the feature's whole vector): sum over active groups of the
     * feature's group log marginal, up to a constant that does not depend
     * on hp. `gather` first copies feature j's statistics over the active
     * groups into the block's scratch so that the many evaluations of a
     * slice sampler read them contiguously. */
    void (*gather)(block_t *b, const partition_view_t *p, int j);
    double (*gathered_log_marginal)(const block_t *b, int j,
                                    const double *hp);
    /* Default prior of the hyperparameter kernel on coordinate c of
     * feature j: log density (up to a constant) and the support
     * [lower, upper] a slice sampler must stay in. */
    double (*hp_log_prior)(const block_t *b, int j, int c, double value);
    void (*hp_support)(const block_t *b, int j, int c, double *lower,
                       double *upper);

    /* Sufficient statistics of local feature j in slot k, as doubles:
     * n_stats(j) of them, named by the R glue. */
    int (*n_stats)(const block_t *b, int j);
    void (*get_stats)(const block_t *b, int k, int j, double *out);

    /* Recount from the data and compare with the incremental tables:
     * NULL, or the first disagreement. For tests. */
    const char *(*check)(const block_t *b, const partition_view_t *p);
    void (*free)(block_t *b);

    /* Appended by the seam work (block_changes.md). */
    /* Copies slot `from`'s statistics and tables to the free slot `to`
     * (slot compaction relabels groups without recounting them). */
    void (*copy_slot)(block_t *b, const partition_view_t *p, int from,
                      int to);
    /* Closed-form log marginal of the rows counted in slots k1 and k2
     * together (a merge proposal's target, without building the group). */
    double (*merged_log_marginal)(const block_t *b, const partition_view_t *p,
                                  int k1, int k2);
    /* Zeroes every slot's statistics and counts each row into its slot
     * p->group_of_row[i] (no tables: `rebuild` follows): a state built
     * from an assignment in O(n F) additions, not O(n F) logs. */
    void (*recount)(block_t *b, const partition_view_t *p);

    /* Appended by the model library (block_changes.md). */
    /* Predictive of one cell of local feature j given the rows counted in
     * slot k (any slot, empty ones included: the prior predictive). Added
     * for queries; a cell is cell_size(j) doubles (1 for every scalar
     * kind: the level 0..k-1 of dd or the count as a double), so that
     * vector-valued kinds fit the same ops. */
    int (*cell_size)(const block_t *b, int j);
    /* log p(cell | slot k), a full log density (mass for discrete kinds). */
    double (*log_predictive)(const block_t *b, int k, int j,
                             const double *cell);
    /* E[cell | slot k] written to out[0 .. mean_size(j) - 1]; dd writes the
     * probability of each of its k levels. May be +Inf where the mean does
     * not exist (bnb with alpha' <= 1). */
    int (*mean_size)(const block_t *b, int j);
    void (*predictive_mean)(const block_t *b, int k, int j, double *out);
    /* One draw of a cell from p(cell | slot k) into out[0 .. cell_size(j)
     * - 1]. Reads only the block; safe in a worker thread with its own rng. */
    void (*sample_predictive)(const block_t *b, int k, int j, rng_t *rng,
                              double *out);

    /* A natural scale of the real-valued (unbounded) hyperparameter
     * coordinate c of feature j, in the data's units (nich mu: the
     * column's sd), by which the hyperparameter kernel multiplies its
     * slice width so that it works in any units. Positive coordinates are
     * sliced on the log scale instead and never ask. */
    double (*hp_scale)(const block_t *b, int j, int c);

    /* Restores feature j's statistics in slot k from in[0 .. n_stats(j) -
     * 1] as get_stats wrote them, and that slot's tables: a resumed chain
     * continues from the real-valued statistics the sampler held (nich's
     * Welford mean and M2), not from a recount that differs in the last
     * bits (DECISIONS.md, saved states). The glue checks them against a
     * recount first. */
    void (*set_stats)(block_t *b, int k, int j, const double *in);

    /* Appended by issue 14 (niw). */
    /* Nonzero when the hyperparameter kernel must leave coordinate c of
     * feature j where it is (niw: mu0 and psi, set from the data; only
     * lambda and nu are sliced). NULL: every coordinate is sliced. */
    int (*hp_fixed)(const block_t *b, int j, int c);
    /* A vector cell with some coordinates NaN (missing) in a query: out[0
     * .. cell_size(j) - 1] holds the observed coordinates as given and the
     * missing ones predicted from p(missing | observed, slot k), by its
     * mean or by one draw. log_predictive of such a cell is the marginal
     * density of its observed coordinates. Read only the block (worker
     * threads). NULL for scalar kinds (their cells are all or nothing). */
    void (*conditional_mean)(const block_t *b, int k, int j,
                             const double *cell, double *out);
    void (*sample_conditional)(const block_t *b, int k, int j,
                               const double *cell, rng_t *rng, double *out);
    /* Appended by issue 14 for non-conjugate kinds (bbnc), whose groups
     * keep explicit parameters instead of integrating them out; NULL for
     * every conjugate kind (callers check). For such a kind score_all,
     * score_slot and score_slot_loo give the likelihood of the row given
     * the slot's parameters (the same whether the row is counted or not),
     * an empty slot the prior predictive, and group_log_marginal the log
     * likelihood of the slot's rows given its parameters plus their log
     * prior density (the log joint's term). A group whose parameters
     * were never set (a state built from an assignment alone) scores
     * collapsed instead. */
    /* Room for m sets of auxiliary parameters (Neal 2000, algorithm 8).
     * Allocates (the only new op that may): MS_OK or MS_ERR_NOMEM, then
     * the room held before stays valid. */
    int (*reserve_auxiliary)(block_t *b, int m);
    /* Auxiliary set a (< m reserved) drawn from the prior given the
     * current hyperparameters. */
    void (*draw_auxiliary)(block_t *b, int a, rng_t *rng);
    /* Auxiliary set a takes slot k's parameters (a singleton's own group
     * is algorithm 8's first auxiliary). */
    void (*auxiliary_from_slot)(block_t *b, int a, int k);
    /* scores[a] (= or +=, by `accumulate`) log p(row's cells | auxiliary
     * set a) for a < m. */
    void (*score_auxiliary)(block_t *b, int row, int m, double *scores,
                            int accumulate);
    /* Slot k takes auxiliary set a's parameters (a row opening a group). */
    void (*adopt_auxiliary)(block_t *b, int a, int k);
    /* The theta kernel's step: slot k's parameters drawn from their
     * conditional given the rows counted in k (exact Gibbs for bbnc). */
    void (*draw_slot_parameters)(block_t *b, const partition_view_t *p,
                                 int k, rng_t *rng);

    /* Appended by issue 14 (niw rows partly missing, data augmentation).
     * A row whose vector cell has some but not all coordinates missing
     * breaks conjugacy; the block keeps the missing coordinates as latent
     * values (its own per-chain copy of those rows' cells, which every op
     * reading a cell uses) and redraws them once per iteration from their
     * conditional given the observed coordinates and the group's other
     * rows. NULL for every kind without latent cells (their chains draw
     * no extra random numbers).
     * n_latent: the partly missing rows of local feature j. get_latent
     * writes their row numbers (increasing) and their cells as the chain
     * holds them (n_latent x cell_size, row-major, observed coordinates
     * included). set_latent puts saved cells back (the missing coordinates
     * only; the caller recounts and rebuilds the block afterwards).
     * resample_latent: one Gibbs update of every latent coordinate, each
     * row taken out of its group, its missing coordinates drawn from the
     * conditional t, the row put back. MS_OK, or MS_ERR_NUMERIC when a
     * conditional could not be formed (the values are then left as they
     * were). Consumes random numbers only when there are latent rows. */
    int (*n_latent)(const block_t *b, int j);
    void (*get_latent)(const block_t *b, int j, int *rows, double *cells);
    void (*set_latent)(block_t *b, int j, const double *cells);
    int (*resample_latent)(block_t *b, const partition_view_t *p, rng_t *rng);

    /* Appended by issue 15. Counts rows[0 .. m) into slot k, whose size
     * p->size[k] already includes all of them, leaving the statistics and
     * tables that m add_row calls in that order would leave, bit for bit,
     * at a cost below m moves (bb: integer counts, then the slot's tables
     * once). Split-merge's random launch and an accepted merge count many
     * rows into one slot. NULL: the caller moves the rows one by one. */
    void (*add_rows)(block_t *b, const partition_view_t *p, const int *rows,
                     int m, int k);
} block_ops_t;

struct block {
    const block_ops_t *ops;
    block_data_t data;
    int n_features;
    const int *feature_id;  /* global feature index of each local one */
    int *hp_offset;         /* n_features + 1 */
    double *hp;             /* hyperparameters, feature by feature */
    void *impl;             /* the kind's statistics, tables and scratch */
};

/* Builds block `b` of the given kind over `data` with initial
 * hyperparameters `hp` (laid out by hp_offset, which is copied) for
 * `capacity` slots. On failure b->ops->free(b) is safe. */
int block_init(block_t *b, int kind, const block_data_t *data,
               const int *feature_id, const int *hp_offset, const double *hp,
               int capacity);

#endif

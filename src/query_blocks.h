/* Posterior-predictive queries on states of mixed definitions (any feature
 * kinds), through the feature blocks' predictive ops (block.h).
 *
 * Given one state, a new row's group has the posterior
 *   w_k   proportional to prior_k * prod_{d observed} p(x_d | group k)
 *   w_new proportional to prior_0 * prod_{d observed} p(x_d | no rows)
 * where prior is the partition prior's predictive for a new row (Neal 2000,
 * eq. 3.7): CRP size_k and alpha; a finite mixture of G groups with
 * symmetric Dirichlet(alpha / G) weights size_k + alpha / G and, for the
 * G - K unused groups together, (G - K) alpha / G. The feature
 * predictives come from each kind's block, rebuilt per state from the
 * state's sufficient statistics (block_init with no data rows, then
 * set_stats per group; the new group is an empty slot: the prior
 * predictive). Draws take the group once, then every missing cell from its
 * group's predictive (sample_predictive); QBQ_MEAN sums the groups'
 * predictive means (dd: level probabilities) weighted by w, exactly.
 *
 * beta-Bernoulli features of a mixed state are scored here with their
 * closed form (a + h) / (a + b + h + t), since no bb block with the
 * predictive ops is in this build.
 *
 * Pure C: no R headers. Every (state, query row) pair owns a random stream
 * derived from one master seed, so results never depend on the thread
 * count. */
#ifndef MICROSCOPES_QUERY_BLOCKS_H
#define MICROSCOPES_QUERY_BLOCKS_H

#include <stdint.h>
#include "parallel.h"

enum {
    QBQ_DRAWS = 0,      /* joint draws: n_rows x D x n_draws cells */
    QBQ_MEAN = 1,       /* predictive means: n_rows x n_mean_columns */
    QBQ_GROUPS = 2      /* one state: n_rows x (K + 1) log group weights */
};

/* One latent state as plain arrays. */
typedef struct {
    int K;                          /* non-empty groups */
    const double *size;             /* K rows per group, >= 1 */
    double alpha;                   /* > 0 */
    int groups;                     /* 0: CRP; G > 0: finite mixture */
    /* Feature d: stats[d] is a K x n_stats(d) matrix (column-major, as R
     * holds it), hp[d] its hyperparameters in the model's order. */
    const double *const *stats;
    const double *const *hp;
} qb_state_t;

typedef struct {
    int mode;                       /* QBQ_DRAWS or QBQ_MEAN */
    int n_rows, D;
    const int *kind;                /* D block kinds (block.h) */
    const int *n_levels;            /* D: dd k; a vector kind's cell width
                                     * (dm k, niw dim); else ignored */
    const double *parameter;        /* D: bnb r, else ignored */
    /* n_rows x C, column-major, C = the sum of the cell widths (1 for a
     * scalar kind; feature d's cell is the next width columns): bb 0/1,
     * dd level 0..k-1, counts, reals; NaN for a cell to predict. A vector
     * cell with some entries NaN is scored on its observed ones by its
     * kind, and only its NaN entries are predicted (dm refuses it). */
    const double *x;

    int n_states;
    const qb_state_t *states;
    const double *state_weight;     /* QBQ_MEAN: sums to 1 */

    int n_draws;                    /* QBQ_DRAWS */
    const int *draw_state;          /* 0-based state of each draw */
    uint64_t seed;

    /* QBQ_DRAWS: n_rows x C x n_draws; QBQ_MEAN: n_rows x M where M sums
     * the features' mean sizes (dd k, a vector kind its width, else 1),
     * feature by feature.
     * Observed cells are copied (a dd mean column: 1 at the observed
     * level). Column-major. QBQ_GROUPS (n_states == 1): n_rows x (K + 1),
     * log of the partition prior's predictive numerator (size_k, alpha;
     * finite: size_k + alpha/G, (G - K) alpha/G) plus the log predictive
     * of the row's observed cells; column K is the new group, -Inf when a
     * finite mixture has no unused group. Dividing by n + alpha gives
     * p(x_i, group k | state) (predict.microscopes_fit). */
    double *out;
} qb_problem_t;

/* Query columns of a feature's cell: a vector kind's width, else 1. */
int qb_cell_width(int kind, int n_levels);
/* Statistics per group of a feature of `kind` (dd: k). */
int qb_n_stats(int kind, int n_levels);
/* Hyperparameters of a feature of `kind`. */
int qb_n_hp(int kind, int n_levels);
/* Mean columns of a feature: dd k, else 1. */
int qb_mean_size(int kind, int n_levels);

/* Checks kinds, levels, parameters, the query cells and every state
 * (sizes, statistics that fit their kind and group sizes, alpha and
 * hyperparameters finite and > 0 where they must be). Returns 0 when
 * valid, else a nonzero code and a message in msg (size msg_size). */
int qb_check(const qb_problem_t *p, char *msg, size_t msg_size);

/* Runs the query on up to n_threads threads; `poll` on the calling thread.
 * Returns MS_OK, MS_ERR_NOMEM, MS_ERR_NUMERIC or MS_INTERRUPTED. */
int qb_run(const qb_problem_t *p, int n_threads, parallel_poll_fn poll,
           void *poll_ctx);

#endif

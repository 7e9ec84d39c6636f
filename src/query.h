/* Posterior-predictive queries on new rows, over a set of latent states
 * (co-clustering and the point partition are in partition.h).
 *
 * A query row is a new row with some entries missing. Given one state (its
 * groups with their sizes and counts, alpha and the feature hyperparameters),
 * the row's group has the posterior
 *   w_k   proportional to size_k * prod_{d observed} pred_kd(x_d)
 *   w_new proportional to alpha  * prod_{d observed} pred_0d(x_d)
 * (CRP prior times the beta-Bernoulli predictive of the observed entries;
 * Neal 2000, eq. 3.7 for a new observation), and a missing entry is 1 with
 * probability pred_kd(1) = (a_d + h_kd) / (a_d + b_d + h_kd + t_kd) given the
 * group. Sampled queries draw the group once per draw, then every missing
 * entry independently given it (datamicroscopes' query.posterior_predictive);
 * exact queries sum over the groups in closed form.
 *
 * Pure C: no R headers. Every (state, query row) pair owns a random stream
 * derived from one master seed, so the results never depend on the number of
 * threads or on the order in which rows are handed out. */
#ifndef MICROSCOPES_QUERY_H
#define MICROSCOPES_QUERY_H

#include <stdint.h>
#include "parallel.h"

/* The value of a missing entry in the query matrix (R's NA_integer_). */
#define QUERY_MISSING INT32_MIN

enum {
    QUERY_DRAWS = 0,    /* joint draws: an n x D x n_draws 0/1 array */
    QUERY_AVG = 1,      /* weighted mean of the draws */
    QUERY_MODE = 2,     /* most frequent value of the draws (ties: 0) */
    QUERY_EXACT = 3     /* closed-form probability of a 1 */
};

/* One latent state, as plain arrays (column-major like R). */
typedef struct {
    int K;                  /* non-empty groups */
    const int *size;        /* K rows per group, all >= 1 */
    const int *heads;       /* K x D observed 1s: heads[k + d * K] */
    const int *tails;       /* K x D observed 0s */
    double alpha;           /* CRP concentration, > 0 */
    const double *hp;       /* D x 2: a_d = hp[d], b_d = hp[d + D], > 0 */
    int groups;             /* 0: Dirichlet process; G >= K: finite mixture
                             * of G groups (partition_prior.h) */
} query_state_t;

typedef struct {
    int kind;               /* QUERY_DRAWS, QUERY_AVG, QUERY_MODE, QUERY_EXACT */
    int n_rows, D;
    const int *x;           /* n_rows x D, column-major: 0, 1 or QUERY_MISSING */

    int n_states;
    const query_state_t *states;

    /* Weight of each state (they sum to 1); not used by QUERY_DRAWS. The
     * sampled statistics are sum_s state_weight[s] * (mean of the draws of
     * state s); QUERY_MODE compares the weighted frequencies of 1 and 0,
     * exactly (in integers) when all states have equal weights and equal
     * numbers of draws. */
    const double *state_weight;

    /* Sampled kinds: draw j is taken from state draw_state[j] (0-based). */
    int n_draws;
    const int *draw_state;
    uint64_t seed;

    /* Outputs, column-major, observed entries copied from x:
     *   QUERY_DRAWS: out_int, n_rows x D x n_draws (0/1)
     *   QUERY_AVG, QUERY_EXACT: out_double, n_rows x D
     *   QUERY_MODE: out_int, n_rows x D (0/1) */
    int *out_int;
    double *out_double;
} query_problem_t;

/* Checks the problem's states: sizes >= 1, counts >= 0 with
 * heads + tails <= size, alpha and hyperparameters finite and > 0.
 * Returns 0 when valid, else 1 + the index of the first bad state, and
 * writes a short reason to *reason. */
int query_check_states(const query_problem_t *p, const char **reason);

/* Runs the query with up to n_threads threads (1 = the calling thread only)
 * on the worker pool; `poll` (may be NULL) runs on the calling thread every
 * so often, e.g. to catch a user interrupt. The outputs must be allocated
 * by the caller; scratch memory is taken with malloc and always freed.
 * Returns MS_OK, MS_ERR_NOMEM, MS_ERR_NUMERIC or MS_INTERRUPTED (outputs
 * then incomplete). */
int query_run(const query_problem_t *p, int n_threads, parallel_poll_fn poll,
              void *poll_ctx);

#endif

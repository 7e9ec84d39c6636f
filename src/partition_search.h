/* A point partition that minimises the posterior expected loss over a
 * sample of partitions (kept draws), by the greedy sequential allocation
 * and sweeps of SALSO (Dahl, Johnson & Mueller 2022, "Search algorithms and
 * loss functions for Bayesian clustering", JCGS 31, 1189-1201). Pure C.
 *
 * Losses between a partition c (sizes n_k) and a draw c' (sizes m_l), with
 * N_kl the rows in cluster k of c and l of c':
 *   VI(c, c')     = (1/n) [sum_k f(n_k) + sum_l f(m_l) - 2 sum_kl f(N_kl)],
 *                   f(x) = x log2 x (Meila 2007; Wade & Ghahramani 2018)
 *   Binder(c, c') = (1/n^2) [sum_k n_k^2 + sum_l m_l^2 - 2 sum_kl N_kl^2],
 *                   twice the share of the n^2 ordered pairs of rows on
 *                   which c and c' disagree (Binder 1978, equal costs).
 * Moving one row changes one n_k and one N_kl per draw, so a move is scored
 * from the non-zero N_kl of the row's cluster l in each draw, kept as
 * sparse lists (2 x draws x n integers per search), in O(draws x overlaps)
 * time, with no n x n matrix. */
#ifndef MICROSCOPES_PARTITION_SEARCH_H
#define MICROSCOPES_PARTITION_SEARCH_H

#include <stdint.h>
#include "parallel.h"

enum { LOSS_BINDER = 0, LOSS_VI = 1 };

/* Draws of partitions of n rows: labels 0, 1, ... of each draw, stored in
 * label_bytes (2 or 4) per row, draw after draw. */
typedef struct {
    int n, n_draws, label_bytes;
    const unsigned char *labels;
    const double *weight;   /* n_draws, summing to 1 */
} label_draws_t;

static inline int label_draws_get(const label_draws_t *x, int t, int i) {
    const size_t at = (size_t)t * (size_t)x->n + (size_t)i;
    if (x->label_bytes == 2) return ((const uint16_t *)x->labels)[at];
    return ((const int32_t *)x->labels)[at];
}

/* The loss between partition `labels` (0-based, < n) and every draw, into
 * loss[n_draws]. MS_OK or MS_ERR_NOMEM. */
int partition_draw_losses(const label_draws_t *draws, const int *labels,
                          int loss, double *out);

/* Searches: n_runs sequential allocations in random orders plus starts
 * from up to `n_draw_starts` draws, each followed by sweeps of single-row
 * moves (at most max_sweeps) until none lowers the expected loss. Each
 * search has its own stream (derived from `seed` and its index) and runs
 * on one of up to n_threads threads; the best (ties: the first) is the
 * same for any thread count. Writes the best partition (labels 0, 1, ...
 * by first appearance) and its expected loss. The pool calls `poll`
 * (may be NULL) on the calling thread; a search checks between sweeps
 * whether to stop. MS_OK, MS_ERR_NOMEM, or MS_INTERRUPTED when `poll`
 * asked to stop. */
int partition_search(const label_draws_t *draws, int loss, int n_runs,
                     int n_draw_starts, int max_sweeps, uint64_t seed,
                     int n_threads, int *best, double *best_loss,
                     parallel_poll_fn poll, void *poll_ctx);

#endif

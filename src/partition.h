/* Summaries of a sample of partitions of the same n rows (one per latent
 * state): co-clustering frequencies, and the pieces of Dahl's (2006)
 * least-squares point partition. Pure C: no R headers. */
#ifndef MICROSCOPES_PARTITION_H
#define MICROSCOPES_PARTITION_H

#include "parallel.h"

/* Co-clustering frequencies: z[i + j * n] = sum_s weight[s] *
 * [label[s][i] == label[s][j]] (labels of each state, any integers), with
 * up to n_threads threads over blocks of columns; `poll` as in
 * parallel_for(). Returns MS_OK, MS_ERR_NOMEM or MS_INTERRUPTED. */
int partition_zmatrix(double *z, int n, int n_states, const int *const *label,
                      const double *weight, int n_threads,
                      parallel_poll_fn poll, void *poll_ctx);

/* For the least-squares partition (Dahl 2006): sum over the cells of the
 * contingency table between partitions u and v of the squared counts,
 * sum_kl N_kl^2 = sum_ij [u_i == u_j][v_i == v_j], in O(n) time.
 * Labels are 0-based and < n_labels_u, n_labels_v. `rows_by_v` lists the
 * rows sorted by v's label with offsets v_start (n_labels_v + 1); `count`
 * is scratch of n_labels_u zeros and is left zeroed. */
double partition_pair_agreement(const int *u, const int *rows_by_v,
                                const int *v_start, int n_labels_v,
                                int *count);

#endif

/* The prior over the partition of the rows: one formula per model, read by
 * the assign kernel, the split-merge kernel, the concentration's slice
 * kernel and the log joint, so that each says it once.
 *
 * Dirichlet process (groups = 0): the Chinese restaurant process with
 * concentration alpha,
 *   p(z) = alpha^K+ Gamma(alpha) / Gamma(n + alpha) prod_k Gamma(n_k).
 * Finite mixture (groups = K >= 1): weights w ~ Dirichlet(alpha/K, ...,
 * alpha/K), so alpha is the total concentration (the CRP is the limit
 * K -> inf), integrated out. Over unlabelled partitions with K+ <= K
 * blocks (K! / (K - K+)! labellings each),
 *   p(z) = K! / (K - K+)! Gamma(alpha) / Gamma(n + alpha)
 *          prod_k Gamma(n_k + alpha/K) / Gamma(alpha/K).
 * Its Polya urn (Green and Richardson 2001; Neal 2000, eq. 2.6 with the
 * empty labels pooled): a row joins a group of m other rows with weight
 * m + alpha/K, and one of the K - K+ empty labels with weight
 * (K - K+) alpha/K (zero when K+ = K); the CRP's weights are m and alpha. */
#ifndef MICROSCOPES_PARTITION_PRIOR_H
#define MICROSCOPES_PARTITION_PRIOR_H

/* Tests only (partition_prior_t.test_wrong): the new-group weight of the
 * finite mixture without its (K - K+) factor, to show that the
 * enumeration tests reject it. */
enum { PARTITION_TEST_EXACT = 0, PARTITION_TEST_DROP_EMPTY_LABELS = 1 };

typedef struct {
    int groups;         /* 0: Dirichlet process; K >= 1: finite mixture */
    int test_wrong;     /* PARTITION_TEST_*, tests only */
} partition_prior_t;

/* A sweep's weights at one alpha: log_join[m] is the log weight of joining
 * a group of m other rows (m = 0..n); partition_log_new() that of a new
 * group. */
typedef struct {
    const partition_prior_t *prior;
    double log_alpha;       /* CRP: log alpha; finite: log(alpha / K) */
    const double *log_join;
} partition_weights_t;

/* `log_int` holds log(0..n) (the CRP's table, used as it is); `table`, n + 1
 * doubles of scratch, receives the finite mixture's log(m + alpha/K). */
void partition_weights_init(partition_weights_t *w,
                            const partition_prior_t *prior, double alpha,
                            int n, const double *log_int, double *table);

/* Log weight of opening a new group when the other rows fill
 * `groups_of_others` groups; -INFINITY when a finite mixture has no empty
 * label left. */
double partition_log_new(const partition_weights_t *w, int groups_of_others);

/* log p(z | alpha) of a partition with `n_groups` groups of the given
 * sizes (constants included). */
double partition_log_prior(const partition_prior_t *prior, const int *sizes,
                           int n_groups, int n, double alpha);

/* log p(split) - log p(merged): one group of n_i + n_j rows becoming groups
 * of n_i and n_j, the split partition having `groups_after` groups;
 * -INFINITY when a finite mixture has no empty label for it. */
double partition_log_split_ratio(const partition_prior_t *prior, double alpha,
                                 int n_i, int n_j, int groups_after);

#endif

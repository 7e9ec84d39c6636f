#include <math.h>
#include "log_gamma.h"
#include "partition_prior.h"
#include "score.h"

void partition_weights_init(partition_weights_t *w,
                            const partition_prior_t *prior, double alpha,
                            int n, const double *log_int, double *table) {
    w->prior = prior;
    if (prior->groups == 0) {
        /* Exactly the CRP's arithmetic of before: log(size), log(alpha). */
        w->log_alpha = log(alpha);
        w->log_join = log_int;
        return;
    }
    const double share = alpha / prior->groups;
    w->log_alpha = log(share);
    for (int m = 0; m <= n; m++) table[m] = log(m + share);
    w->log_join = table;
}

double partition_log_new(const partition_weights_t *w, int groups_of_others) {
    const int K = w->prior->groups;
    if (K == 0) return w->log_alpha;
    if (groups_of_others >= K) return -INFINITY;
    if (w->prior->test_wrong == PARTITION_TEST_DROP_EMPTY_LABELS)
        return w->log_alpha;
    return log((double)(K - groups_of_others)) + w->log_alpha;
}

double partition_log_prior(const partition_prior_t *prior, const int *sizes,
                           int n_groups, int n, double alpha) {
    const int K = prior->groups;
    if (K == 0) return score_crp(sizes, n_groups, n, alpha);
    if (n_groups > K) return -INFINITY;
    const double share = alpha / K;
    /* log K! / (K - K+)!: the labellings of one unlabelled partition. */
    double score = log_gamma((double)K + 1) - log_gamma((double)(K - n_groups) + 1) +
                   log_gamma(alpha) - log_gamma(alpha + n);
    const double empty = log_gamma(share);
    for (int k = 0; k < n_groups; k++)
        score += log_gamma(sizes[k] + share) - empty;
    return score;
}

double partition_log_split_ratio(const partition_prior_t *prior, double alpha,
                                 int n_i, int n_j, int groups_after) {
    const int K = prior->groups;
    if (K == 0)
        return log(alpha) + log_gamma((double)n_i) + log_gamma((double)n_j) -
               log_gamma((double)(n_i + n_j));
    if (groups_after > K) return -INFINITY;
    /* K!/(K - K+ - 1)! over K!/(K - K+)! is K - K+, K+ before the split. */
    const double share = alpha / K;
    return log((double)(K - groups_after + 1)) + log_gamma(n_i + share) +
           log_gamma(n_j + share) - log_gamma(n_i + n_j + share) -
           log_gamma(share);
}

#include <math.h>
#include "log_gamma.h"
#include "score.h"

double score_crp(const int *sizes, int K, int n, double alpha) {
    double score = K * log(alpha) + log_gamma(alpha) - log_gamma(alpha + n);
    for (int k = 0; k < K; k++) score += log_gamma((double)sizes[k]);
    return score;
}

double score_feature(const int *heads, const int *tails, int K,
                     double a, double b) {
    double score = 0.0;
    int n_groups_seen = 0;
    for (int k = 0; k < K; k++) {
        const int h = heads[k], t = tails[k];
        /* A group that never observed the feature contributes B(a,b)/B(a,b). */
        if (h + t == 0) continue;
        score += log_gamma(a + h) + log_gamma(b + t) - log_gamma(a + b + h + t);
        n_groups_seen++;
    }
    return score - n_groups_seen * log_beta(a, b);
}

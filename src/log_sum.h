/* Sums of logarithms computed as logarithms of products: one log() per run
 * of factors instead of one per term. Products are kept within about
 * [2^-1000, 2^1000] (factors outside a safe range are logged one by one),
 * so they never overflow or underflow; their rounding error (about one
 * unit in the last place per factor) is of the same order as that of
 * adding the terms' logs one by one. */
#ifndef MICROSCOPES_LOG_SUM_H
#define MICROSCOPES_LOG_SUM_H

/* sum_j log(x[j] + shift), every x[j] + shift > 0. */
double sum_log_shifted(const double *x, int n, double shift);

/* sum_k log Gamma(x + c_k) - log Gamma(x) for counts c_k > 0 and x > 0:
 * the log rising factorials log(x (x + 1) ... (x + c_k - 1)) of a
 * beta-Bernoulli marginal likelihood. The counts come as the small ones
 * (<= LOG_RISING_SMALL_MAX), one by one, multiplied out as products, and
 * the distinct large ones with their multiplicities, one Stirling series
 * each (log Gamma(x) shared): a hyperparameter update evaluates the sum
 * many times for one set of counts, and at many groups large counts
 * repeat (group sizes, for the totals). With every multiplicity 1 the
 * result is that of summing the large counts one by one in list order. */
/* Counts up to this are multiplied out (c multiplications); above it one
 * Stirling series is cheaper, log Gamma(x) being shared by all groups. */
#define LOG_RISING_SMALL_MAX 16
double log_rising_sum_grouped(double x, const int *small, int n_small,
                              const int *large, const int *multiplicity,
                              int n_large);

#endif

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

/* The same sum, sum_k m_k [log Gamma(x + c_k) - log Gamma(x)], for
 * distinct counts 0 < c_1 < c_2 < ... < c_n with multiplicities m_k, by
 * climbing a ladder: log Gamma(x + c_k) - log Gamma(x + c_(k-1)) is the log
 * of the product of the factors (x + c_(k-1)) ... (x + c_k - 1), one log
 * per distinct count whatever its size or multiplicity; across a gap wider
 * than LOG_RISING_GAP_MAX the rung is a Stirling series instead. At K
 * groups a feature has far fewer distinct counts than groups (group sizes
 * repeat in the totals, small counts in the heads), and the products of a
 * ladder are short and independent where log_rising_sum_grouped
 * multiplies every small count out in one long chain. Each rung's rounding
 * (an ulp of the running value) adds up over the rungs, so the sum is good
 * to about n ulps of its largest term (relative 1e-13 for n = 1,000):
 * a slice sampler's target, not a reported score. */
#define LOG_RISING_GAP_MAX 32
double log_rising_sum_ladder(double x, const int *counts,
                             const int *multiplicity, int n);

#endif

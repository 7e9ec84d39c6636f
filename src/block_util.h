/* Helpers shared by the feature blocks of block_dd.c, block_gp.c,
 * block_bnb.c and block_nich.c: per-slot array growth, the log rising
 * factorials their predictives need, and the log densities of their
 * default hyperpriors. Pure C. */
#ifndef MICROSCOPES_BLOCK_UTIL_H
#define MICROSCOPES_BLOCK_UTIL_H

#include <math.h>
#include <stddef.h>
#include "block.h"
#include "log_gamma.h"

/* Reallocates *array from old_count to new_count elements of `size` bytes
 * and zeroes the new ones. MS_OK or MS_ERR_NOMEM (then *array is kept). */
int block_grow_array(void **array, size_t size, size_t old_count,
                     size_t new_count);

/* Above this many factors a log rising factorial is taken as a difference
 * of log Gamma values instead of the log of a product. */
#define BLOCK_RISING_PRODUCT_MAX 256

/* log(a (a + 1) ... (a + x - 1)) = log Gamma(a + x) - log Gamma(a), a > 0,
 * x >= 0 an integer: one log() for the small counts of a predictive, the
 * product renormalised before it could overflow. */
static inline double block_log_rising(double a, int x) {
    if (x > BLOCK_RISING_PRODUCT_MAX) return log_gamma(a + x) - log_gamma(a);
    double product = 1.0, sum = 0.0;
    for (int i = 0; i < x; i++) {
        product *= a + i;
        if (product > 1e280) {
            sum += log(product);
            product = 1.0;
        }
    }
    return sum + log(product);
}

/* log prod_{i < x} (a + i) / (c + i) for 0 < a <= c: one log() of the
 * ratio of the two products (one division), both renormalised before the
 * denominator, the larger, could overflow. */
static inline double block_log_rising_ratio(double a, double c, int x) {
    if (x > BLOCK_RISING_PRODUCT_MAX)
        return log_gamma(a + x) - log_gamma(a) - log_gamma(c + x) +
               log_gamma(c);
    double numerator = 1.0, denominator = 1.0, sum = 0.0;
    for (int i = 0; i < x; i++) {
        numerator *= a + i;
        denominator *= c + i;
        if (denominator > 1e280) {
            sum += log(numerator / denominator);
            numerator = denominator = 1.0;
        }
    }
    return sum + log(numerator / denominator);
}

/* Small counts get the log rising factorials of a predictive from a
 * per-slot table of this many entries (gp, bnb): a score of a count up to
 * this is a look-up, a larger one a look-up and one log(). Each entry
 * costs a move one log per feature: 8 halved the ns per score of counts
 * with means 1 to 7 (tools/block_selftest.c) against 4, for 100 ns more
 * per feature per move, a gain from about 20 groups up. */
#define BLOCK_RISING_CACHED 8

/* log x! for x < BLOCK_LOG_FACTORIALS from a table filled once
 * (block_util.c), log_gamma beyond: the row's own term of a count's
 * predictive, taken once per row. */
#define BLOCK_LOG_FACTORIALS 1024
extern double block_log_factorial_table[BLOCK_LOG_FACTORIALS];
void block_fill_log_factorials(void);
static inline double block_log_factorial(int x) {
    return x < BLOCK_LOG_FACTORIALS ? block_log_factorial_table[x]
                                    : log_gamma(x + 1.0);
}

/* Log density (up to a constant) of log-normal(log(median), sd^2) at x > 0:
 * the default hyperprior of the positive hyperparameters (MODELS.md). It is
 * proper, vanishes at 0 and at infinity (so a slice sampler never drifts
 * off), and scales with `median`, so that a prior centred on a column's
 * scale gives results that do not depend on the column's units. */
static inline double block_log_normal_prior(double x, double median,
                                            double sd) {
    if (!(x > 0)) return -INFINITY;
    const double z = (log(x) - log(median)) / sd;
    return -0.5 * z * z - log(x);
}

/* Location and scale of a column's observed values (NaN / BLOCK_INT_NA
 * skipped): the mean and the population standard deviation, with the
 * fallbacks of R/model-defaults.R so that C and R agree: no observed value
 * gives (0, 1); a zero spread gives the scale |mean|, or 1 when the mean is
 * 0 too. */
void block_column_location_scale(const block_data_t *data, int j,
                                 double *location, double *scale);

/* Support of a positive hyperparameter: (0, MS_MAX_HYPERPARAMETER). */
void block_positive_support(double *lower, double *upper);

/* Frees what block_init and the kinds' init allocated; safe on a block
 * whose init failed part way (impl freed by the kind's own free first). */
void block_free_common(block_t *b);

#endif

/* log Gamma(x) for x > 0, thread-safe. glibc's lgamma() writes the global
 * `signgam`, a data race when chains run in threads, and lgamma_r() is not
 * portable; the arguments here are always positive. */
#ifndef MICROSCOPES_LOG_GAMMA_H
#define MICROSCOPES_LOG_GAMMA_H

#include <math.h>

double log_gamma(double x);

/* Stirling's series (Abramowitz and Stegun 6.1.41) to the z^-13 term, for
 * z >= 10 where its first omitted term is below 1e-15. Inline: the feature
 * hyperparameter kernel calls it once per group in its innermost loop. */
static inline double log_gamma_stirling(double z) {
    const double inv = 1.0 / z, inv2 = inv * inv;
    const double series =
        inv * (1.0 / 12 +
               inv2 * (-1.0 / 360 +
                       inv2 * (1.0 / 1260 +
                               inv2 * (-1.0 / 1680 +
                                       inv2 * (1.0 / 1188 +
                                               inv2 * (-691.0 / 360360 +
                                                       inv2 / 156.0))))));
    return (z - 0.5) * log(z) - z + 0.91893853320467274178 + series;
}

/* log Beta(a, b) = log Gamma(a) + log Gamma(b) - log Gamma(a + b). */
double log_beta(double a, double b);

#endif

/* log Gamma(x) for x > 0, thread-safe. glibc's lgamma() writes the global
 * `signgam`, a data race when chains run in threads, and lgamma_r() is not
 * portable; the arguments here are always positive. */
#ifndef MICROSCOPES_LOG_GAMMA_H
#define MICROSCOPES_LOG_GAMMA_H

double log_gamma(double x);

/* log Beta(a, b) = log Gamma(a) + log Gamma(b) - log Gamma(a + b). */
double log_beta(double a, double b);

#endif

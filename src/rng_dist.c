#include <math.h>
#include "log_gamma.h"
#include "rng_dist.h"

double rng_normal(rng_t *rng) {
    for (;;) {
        const double u = 2.0 * rng_unif(rng) - 1.0;
        const double v = 2.0 * rng_unif(rng) - 1.0;
        const double s = u * u + v * v;
        if (s > 0 && s < 1) return u * sqrt(-2.0 * log(s) / s);
    }
}

double rng_gamma(rng_t *rng, double shape) {
    if (shape < 1.0) {
        const double boost = pow(rng_unif(rng), 1.0 / shape);
        return rng_gamma(rng, shape + 1.0) * boost;
    }
    const double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = rng_normal(rng);
            v = 1.0 + c * x;
        } while (v <= 0);
        v = v * v * v;
        const double u = rng_unif(rng);
        if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
        if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v))) return d * v;
    }
}

double rng_poisson(rng_t *rng, double lambda) {
    if (!(lambda > 0)) return 0.0;
    if (lambda < 10.0) {
        const double limit = exp(-lambda);
        double product = rng_unif(rng), k = 0.0;
        while (product > limit) {
            product *= rng_unif(rng);
            k += 1.0;
        }
        return k;
    }
    /* PTRS, with Hormann's constants (as in numpy's random_poisson_ptrs). */
    const double slam = sqrt(lambda), loglam = log(lambda);
    const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
    const double vr = 0.9277 - 3.6224 / (b - 2.0);
    for (;;) {
        const double u = rng_unif(rng) - 0.5, v = rng_unif(rng);
        const double us = 0.5 - fabs(u);
        const double k = floor((2.0 * a / us + b) * u + lambda + 0.43);
        if (us >= 0.07 && v <= vr) return k;
        if (k < 0 || (us < 0.013 && v > us)) continue;
        if (log(v) + log(invalpha) - log(a / (us * us) + b) <=
            -lambda + k * loglam - log_gamma(k + 1.0))
            return k;
    }
}

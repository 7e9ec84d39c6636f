#include <math.h>
#include "log_gamma.h"

/* Below this the argument is shifted up by recurrence before the Stirling
 * series, whose first omitted term is then below 1e-15. */
#define STIRLING_FROM 10.0

double log_gamma(double x) {
    if (!(x > 0)) return x == 0 ? INFINITY : NAN;
    if (x == 1.0 || x == 2.0) return 0.0;
    double shift = 0.0;
    if (x < STIRLING_FROM) {
        double product = 1.0;
        while (x < STIRLING_FROM) {
            product *= x;
            x += 1.0;
        }
        shift = log(product);
    }
    /* Stirling's series (Abramowitz and Stegun 6.1.41) to the x^-13 term. */
    const double inv = 1.0 / x, inv2 = inv * inv;
    const double series =
        inv * (1.0 / 12 +
               inv2 * (-1.0 / 360 +
                       inv2 * (1.0 / 1260 +
                               inv2 * (-1.0 / 1680 +
                                       inv2 * (1.0 / 1188 +
                                               inv2 * (-691.0 / 360360 +
                                                       inv2 / 156.0))))));
    return (x - 0.5) * log(x) - x + 0.91893853320467274178 + series - shift;
}

double log_beta(double a, double b) {
    return log_gamma(a) + log_gamma(b) - log_gamma(a + b);
}

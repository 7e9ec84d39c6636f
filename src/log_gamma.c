#include <math.h>
#include "log_gamma.h"

/* Below this the argument is shifted up by recurrence before the Stirling
 * series (log_gamma.h), whose first omitted term is then below 1e-15. */
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
    return log_gamma_stirling(x) - shift;
}

double log_beta(double a, double b) {
    return log_gamma(a) + log_gamma(b) - log_gamma(a + b);
}

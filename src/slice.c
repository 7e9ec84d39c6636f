#include <math.h>
#include "slice.h"
#include "status.h"

/* The shrinkage loop stops (keeping x0) after this many rejections; a
 * valid target never needs them, since the interval halves about every
 * other step and x0 itself is always inside the slice. */
#define MAX_SHRINK 200

static double exponential(rng_t *rng) { return -log(rng_unif(rng)); }

double slice_sample(double x0, log_density_fn log_density, void *context,
                    const slice_options_t *options, rng_t *rng, int *status) {
    const double f0 = log_density(x0, context);
    if (!isfinite(f0)) {
        *status = MS_ERR_NUMERIC;
        return x0;
    }
    const double level = f0 - exponential(rng);
    const double w = options->width;

    double left = x0 - w * rng_unif(rng);
    double right = left + w;
    int steps_left = (int)floor(options->max_steps * rng_unif(rng));
    int steps_right = options->max_steps - 1 - steps_left;
    while (steps_left-- > 0 && left > options->lower &&
           log_density(left, context) > level)
        left -= w;
    while (steps_right-- > 0 && right < options->upper &&
           log_density(right, context) > level)
        right += w;
    if (left < options->lower) left = options->lower;
    if (right > options->upper) right = options->upper;

    for (int tries = 0; tries < MAX_SHRINK; tries++) {
        const double x1 = left + rng_unif(rng) * (right - left);
        if (x1 > options->lower && x1 < options->upper &&
            log_density(x1, context) > level)
            return x1;
        if (x1 < x0) left = x1;
        else right = x1;
    }
    return x0;
}

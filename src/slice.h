/* Univariate slice sampling with stepping out and shrinkage (Neal 2003,
 * "Slice sampling", Annals of Statistics 31(3), figures 3 and 5), on an
 * interval [lower, upper] that may be infinite on either side. */
#ifndef MICROSCOPES_SLICE_H
#define MICROSCOPES_SLICE_H

#include "rng.h"

typedef double (*log_density_fn)(double x, void *context);

typedef struct {
    double width;       /* initial interval width w */
    int max_steps;      /* stepping-out limit m (Neal's randomised split) */
    double lower, upper;
} slice_options_t;

/* One slice-sampling update of x0, whose log density must be finite.
 * Returns the new point; *status is set to MS_ERR_NUMERIC when the log
 * density at x0 is not finite. */
double slice_sample(double x0, log_density_fn log_density, void *context,
                    const slice_options_t *options, rng_t *rng, int *status);

#endif

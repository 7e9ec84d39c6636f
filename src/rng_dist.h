/* Draws from the distributions the feature blocks' predictives need
 * (normal, gamma, Poisson), on a chain's or query row's own stream
 * (rng.h). Pure C, thread-safe. */
#ifndef MICROSCOPES_RNG_DIST_H
#define MICROSCOPES_RNG_DIST_H

#include "rng.h"

/* Standard normal: Marsaglia's polar method (one of the pair is used, so
 * the stream carries no hidden state). */
double rng_normal(rng_t *rng);

/* Gamma(shape, 1), shape > 0: Marsaglia and Tsang (2000), "A simple
 * method for generating gamma variables", ACM TOMS 26(3); for shape < 1 a
 * Gamma(shape + 1) draw times U^(1/shape) (their section 6). */
double rng_gamma(rng_t *rng, double shape);

/* Poisson(lambda), lambda >= 0: multiplication of uniforms below 10,
 * else Hormann's transformed rejection PTRS (Hormann 1993, "The
 * transformed rejection method for generating Poisson random variables",
 * Insurance: Mathematics and Economics 12). Returned as a double so that
 * huge means do not overflow an int. */
double rng_poisson(rng_t *rng, double lambda);

#endif

/* Per-chain random number streams: xoshiro256++ (Blackman and Vigna 2021).
 * Pure C, no R headers: every chain and every query row owns one stream, so
 * results never depend on how work is spread over threads. */
#ifndef MICROSCOPES_RNG_H
#define MICROSCOPES_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} rng_t;

/* Fills the state from a 64-bit seed through splitmix64, as the xoshiro
 * authors recommend, so that nearby seeds give unrelated streams. */
void rng_seed(rng_t *rng, uint64_t seed);

/* A seed for sub-stream `index` of `master`: used to give each query row its
 * own stream without drawing from a shared one. */
uint64_t rng_derive_seed(uint64_t master, uint64_t index);

/* rng_next and rng_unif are inline: they sit in the innermost loops of the
 * samplers and queries, where a call per draw costs more than the draw. */
static inline uint64_t rng_rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(rng_t *rng) {
    uint64_t *s = rng->s;
    const uint64_t result = rng_rotl(s[0] + s[3], 23) + s[0];
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

/* Uniform on the open interval (0, 1), 53 bits: (k + 0.5) / 2^53 is never
 * 0 or 1, so log(u) is always finite. */
static inline double rng_unif(rng_t *rng) {
    return ((double)(rng_next(rng) >> 11) + 0.5) * 0x1.0p-53;
}

/* Uniform integer in [0, n), without modulo bias (Lemire 2019). */
uint32_t rng_below(rng_t *rng, uint32_t n);

/* Index drawn with probability proportional to exp(log_weights[k]);
 * log_weights need not be normalised. `scratch` has room for n doubles. */
int rng_categorical_log(rng_t *rng, const double *log_weights, int n,
                        double *scratch);

#endif

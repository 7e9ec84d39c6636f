#include <math.h>
#include "rng.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(rng_t *rng, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

uint64_t rng_derive_seed(uint64_t master, uint64_t index) {
    uint64_t x = master ^ (index * 0xd1b54a32d192ed03ULL);
    splitmix64(&x);
    return splitmix64(&x);
}

uint32_t rng_below(rng_t *rng, uint32_t n) {
    uint64_t m = (uint64_t)(uint32_t)(rng_next(rng) >> 32) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)(rng_next(rng) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

int rng_categorical_log(rng_t *rng, const double *log_weights, int n,
                        double *scratch) {
    double max = -INFINITY;
    for (int k = 0; k < n; k++)
        if (log_weights[k] > max) max = log_weights[k];
    double total = 0.0;
    for (int k = 0; k < n; k++) {
        scratch[k] = exp(log_weights[k] - max);
        total += scratch[k];
    }
    double u = rng_unif(rng) * total;
    for (int k = 0; k < n - 1; k++) {
        if (u < scratch[k]) return k;
        u -= scratch[k];
    }
    return n - 1;
}

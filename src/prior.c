#include <math.h>
#include "kernels.h"

double prior_log_density(const prior_t *prior, double x) {
    switch (prior->kind) {
    case PRIOR_GAMMA:
        if (!(x > 0)) return -INFINITY;
        return (prior->shape - 1.0) * log(x) - prior->rate * x;
    default:
        return -INFINITY;
    }
}

#include <math.h>
#include "log_gamma.h"
#include "log_sum.h"

/* Factors outside this range are logged on their own, so that one product
 * step never goes past 2^(800 + 100) or below 2^-(800 + 100). */
#define FACTOR_MIN 0x1p-100
#define FACTOR_MAX 0x1p100
#define PRODUCT_MIN 0x1p-800
#define PRODUCT_MAX 0x1p800

/* Counts up to this are summed as products (c - 1 multiplications); above
 * it two log_gamma calls (Stirling's series) are cheaper. */
#define RISING_BY_PRODUCT_MAX 16

typedef struct {
    double product, logs;
} log_product_t;

static inline void log_product_add(log_product_t *p, double factor) {
    if (factor > FACTOR_MIN && factor < FACTOR_MAX) {
        p->product *= factor;
        if (p->product > PRODUCT_MAX || p->product < PRODUCT_MIN) {
            p->logs += log(p->product);
            p->product = 1.0;
        }
    } else {
        p->logs += log(factor);
    }
}

static inline double log_product_value(const log_product_t *p) {
    return p->logs + log(p->product);
}

double sum_log_shifted(const double *x, int n, double shift) {
    /* Four independent products, so that the multiplications pipeline. */
    log_product_t p[4] = {{1.0, 0.0}, {1.0, 0.0}, {1.0, 0.0}, {1.0, 0.0}};
    int j = 0;
    for (; j + 4 <= n; j += 4)
        for (int r = 0; r < 4; r++) log_product_add(&p[r], x[j + r] + shift);
    for (; j < n; j++) log_product_add(&p[0], x[j] + shift);
    return (log_product_value(&p[0]) + log_product_value(&p[1])) +
           (log_product_value(&p[2]) + log_product_value(&p[3]));
}

double log_rising_sum(double x, const int *counts, int n) {
    log_product_t small = {1.0, 0.0};
    double large = 0.0;
    int n_large = 0;
    for (int k = 0; k < n; k++) {
        const int c = counts[k];
        if (c <= RISING_BY_PRODUCT_MAX) {
            for (int j = 0; j < c; j++) log_product_add(&small, x + (double)j);
        } else {
            large += log_gamma(x + (double)c);
            n_large++;
        }
    }
    double total = log_product_value(&small);
    if (n_large > 0) total += large - n_large * log_gamma(x);
    return total;
}

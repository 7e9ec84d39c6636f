#include <math.h>
#include "log_gamma.h"
#include "log_sum.h"

/* log_product_add: factors outside [FACTOR_MIN, FACTOR_MAX] are logged on
 * their own and the running product is folded into a log once it leaves
 * [PRODUCT_MIN, PRODUCT_MAX], so no step goes past 2^(800 + 100) or below
 * 2^-(800 + 100). */
#define FACTOR_MIN 0x1p-100
#define FACTOR_MAX 0x1p100
#define PRODUCT_MIN 0x1p-800
#define PRODUCT_MAX 0x1p800

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

/* sum_log_shifted: runs of RUN factors are multiplied as a tree (short
 * dependency chains, one range check per run); a run's product is folded
 * into the running product when it lies in [RUN_MIN, RUN_MAX], else (huge
 * or tiny factors, or not finite ones) the run's factors are logged one by
 * one. The running product is folded into a log when it leaves the same
 * range, so it stays within [2^-1000, 2^1000]. */
#define RUN 8
#define RUN_MIN 0x1p-500
#define RUN_MAX 0x1p500

double sum_log_shifted(const double *x, int n, double shift) {
    double product = 1.0, logs = 0.0;
    int j = 0;
    for (; j + RUN <= n; j += RUN) {
        const double *v = x + j;
        const double p = (((v[0] + shift) * (v[1] + shift)) *
                          ((v[2] + shift) * (v[3] + shift))) *
                         (((v[4] + shift) * (v[5] + shift)) *
                          ((v[6] + shift) * (v[7] + shift)));
        if (p > RUN_MIN && p < RUN_MAX) {
            product *= p;
            if (product > RUN_MAX || product < RUN_MIN) {
                logs += log(product);
                product = 1.0;
            }
        } else {
            for (int r = 0; r < RUN; r++) logs += log(v[r] + shift);
        }
    }
    for (; j < n; j++) logs += log(x[j] + shift);
    return logs + log(product);
}

double log_rising_sum_grouped(double x, const int *small, int n_small,
                              const int *large, const int *multiplicity,
                              int n_large) {
    log_product_t product = {1.0, 0.0};
    for (int k = 0; k < n_small; k++)
        for (int j = 0; j < small[k]; j++)
            log_product_add(&product, x + (double)j);
    double total = log_product_value(&product);
    if (n_large == 0) return total;
    double sum_large = 0.0;
    int n_terms = 0;
    for (int k = 0; k < n_large; k++) {
        const double term = log_gamma_stirling(x + (double)large[k]);
        sum_large += multiplicity[k] == 1 ? term : multiplicity[k] * term;
        n_terms += multiplicity[k];
    }
    return total + (sum_large - n_terms * log_gamma(x));
}

/* The product of (x + from) ... (x + to - 1), to - from <= GAP_MAX
 * factors, logged; a product that left the normal range (x huge or
 * denormal) is redone as a sum of logs. */
static double log_rung(double x, int from, int to) {
    double product = 1.0;
    for (int j = from; j < to; j++) product *= x + (double)j;
    if (product < 0x1p1000 && product > 0x1p-1000) return log(product);
    double logs = 0.0;
    for (int j = from; j < to; j++) logs += log(x + (double)j);
    return logs;
}

double log_rising_sum_ladder(double x, const int *counts,
                             const int *multiplicity, int n) {
    double total = 0.0;
    double rising = 0.0;   /* log Gamma(x + reached) - log Gamma(x) */
    double log_gamma_x = 0.0;
    int reached = 0, have_log_gamma_x = 0;
    for (int k = 0; k < n; k++) {
        const int c = counts[k];
        if (c - reached <= LOG_RISING_GAP_MAX) {
            rising += log_rung(x, reached, c);
        } else {
            /* c > GAP_MAX >= 10, so x + c is in the series' range. */
            if (!have_log_gamma_x) {
                log_gamma_x = log_gamma(x);
                have_log_gamma_x = 1;
            }
            rising = log_gamma_stirling(x + (double)c) - log_gamma_x;
        }
        reached = c;
        total += multiplicity[k] == 1 ? rising : multiplicity[k] * rising;
    }
    return total;
}

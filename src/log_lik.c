/* Pointwise log predictive densities (log_lik.h). */
#include <math.h>
#include <stdlib.h>
#include "log_lik.h"
#include "parallel.h"
#include "status.h"

typedef struct {
    const data_t *data;
    const label_draws_t *draws;
    const double *hps;
    double *out;
} log_lik_job_t;

static int log_lik_unit(void *ctx, int t, int thread, parallel_pool_t *pool) {
    (void)thread;
    (void)pool;
    const log_lik_job_t *job = ctx;
    const data_t *data = job->data;
    const int n = data->n, D = data->D, S = job->draws->n_draws;
    int K = 0;
    for (int i = 0; i < n; i++) {
        const int l = label_draws_get(job->draws, t, i);
        if (l + 1 > K) K = l + 1;
    }
    int *heads = calloc((size_t)K * D + 1, sizeof(int));
    int *tails = calloc((size_t)K * D + 1, sizeof(int));
    if (!heads || !tails) {
        free(heads);
        free(tails);
        return MS_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++) {
        const int k = label_draws_get(job->draws, t, i);
        const uint8_t *codes = data->codes + (size_t)i * D;
        for (int d = 0; d < D; d++) {
            if (codes[d] == CODE_ON) heads[(size_t)k * D + d]++;
            else if (codes[d] == CODE_OFF) tails[(size_t)k * D + d]++;
        }
    }
    const double *a = job->hps + (size_t)t * 2 * D, *b = a + D;
    for (int i = 0; i < n; i++) {
        const int k = label_draws_get(job->draws, t, i);
        const uint8_t *codes = data->codes + (size_t)i * D;
        const int *h = heads + (size_t)k * D, *f = tails + (size_t)k * D;
        double sum = 0;
        for (int d = 0; d < D; d++) {
            if (codes[d] == CODE_MISSING) continue;
            const int on = codes[d] == CODE_ON;
            const double hd = h[d] - on, td = f[d] - !on;
            sum += log((on ? a[d] + hd : b[d] + td) / (a[d] + b[d] + hd + td));
        }
        job->out[t + (size_t)i * S] = sum;
    }
    free(heads);
    free(tails);
    return MS_OK;
}

int log_lik_draws(const data_t *data, const label_draws_t *draws,
                  const double *hps, int n_threads, double *out) {
    log_lik_job_t job = {data, draws, hps, out};
    return parallel_for(draws->n_draws, n_threads, log_lik_unit, &job, NULL, NULL);
}

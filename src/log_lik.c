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

/* One draw. With h, t the heads and tails of feature d in row i's group k
 * (row i included) and m = h + t, row i's term is log((a + h - 1) /
 * (a + b + m - 1)) when x_id = 1 and log((b + t - 1) / (a + b + m - 1))
 * when x_id = 0: it depends on (k, d, x_id) only. So, per group, the
 * off-terms are summed once (base), each row adds the on-minus-off
 * difference over its on-features and takes the off-term back over its
 * missing ones: 3 K D logs and O(ones + missing) additions per draw
 * instead of n D logs. */
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
    const size_t KD = (size_t)K * D;
    int *heads = calloc(KD + 1, sizeof(int));
    int *missing = calloc(KD + 1, sizeof(int));
    int *size = calloc((size_t)K + 1, sizeof(int));
    double *off = malloc((KD + 1) * sizeof(double));
    double *delta = malloc((KD + 1) * sizeof(double));
    double *base = calloc((size_t)K + 1, sizeof(double));
    if (!heads || !missing || !size || !off || !delta || !base) {
        free(heads);
        free(missing);
        free(size);
        free(off);
        free(delta);
        free(base);
        return MS_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++) {
        const int k = label_draws_get(job->draws, t, i);
        size[k]++;
        for (int j = data->on_start[i]; j < data->on_start[i + 1]; j++)
            heads[(size_t)k * D + data->on_feature[j]]++;
        for (int j = data->missing_start[i]; j < data->missing_start[i + 1]; j++)
            missing[(size_t)k * D + data->missing_feature[j]]++;
    }
    const double *a = job->hps + (size_t)t * 2 * D, *b = a + D;
    for (int k = 0; k < K; k++) {
        for (int d = 0; d < D; d++) {
            const size_t at = (size_t)k * D + d;
            const int h = heads[at], m = size[k] - missing[at], f = m - h;
            const double log_denominator = m > 0 ? log(a[d] + b[d] + m - 1) : 0;
            const double on = h > 0 ? log(a[d] + h - 1) - log_denominator : 0;
            off[at] = f > 0 ? log(b[d] + f - 1) - log_denominator : 0;
            delta[at] = on - off[at];
            base[k] += off[at];
        }
    }
    for (int i = 0; i < n; i++) {
        const int k = label_draws_get(job->draws, t, i);
        const double *dk = delta + (size_t)k * D, *ok = off + (size_t)k * D;
        double sum = base[k];
        for (int j = data->on_start[i]; j < data->on_start[i + 1]; j++)
            sum += dk[data->on_feature[j]];
        for (int j = data->missing_start[i]; j < data->missing_start[i + 1]; j++)
            sum -= ok[data->missing_feature[j]];
        job->out[t + (size_t)i * S] = sum;
    }
    free(heads);
    free(missing);
    free(size);
    free(off);
    free(delta);
    free(base);
    return MS_OK;
}

int log_lik_draws(const data_t *data, const label_draws_t *draws,
                  const double *hps, int n_threads, double *out,
                  parallel_poll_fn poll, void *poll_ctx) {
    log_lik_job_t job = {data, draws, hps, out};
    return parallel_for(draws->n_draws, n_threads, log_lik_unit, &job, poll, poll_ctx);
}

/* Reference collapsed Gibbs sweeps for bench/assign_sweep.R: what a
 * competent C programmer would write for a Dirichlet-process mixture of
 * beta-Bernoulli features (Neal 2000, algorithm 3) with fixed
 * hyperparameters shared by all features (a, b) and a fixed CRP alpha, on
 * fully observed 0/1 data. Not part of the package.
 *
 * Both variants precompute log(a + c), log(b + c) and log(a + b + c) for
 * every count c = 0..n (the hyperparameters are fixed and shared), keep
 * per-group counts of ones, and visit rows in a random order:
 *   variant 0, "dense": each row-group score is recomputed from the counts,
 *     log N_k + sum_d log p(x_d | counts) with one table look-up per
 *     feature;
 *   variant 1, "sparse": each group caches sum_d log p(x_d = 0 | counts)
 *     (refreshed, D look-ups, when the group changes), so a score is that
 *     plus a sum over the row's ones of log p(1) - log p(0).
 * Compiled by R CMD SHLIB and called through .C. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t next(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unif(uint64_t *s) { return ((next(s) >> 11) + 0.5) * 0x1.0p-53; }

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct {
    int n, D, cap;
    const uint8_t *x;       /* n x D row-major */
    const int *on_start, *on;   /* the ones of each row */
    int *z, *size, *heads;  /* heads: cap x D */
    double *L1, *L0, *LS, *log_int, *off_sum;
} sampler_t;

/* sum_d log p(x_d = 0 | group k), variant 1's cache. */
static double group_off_sum(const sampler_t *s, int k) {
    const int N = s->size[k];
    const int *h = s->heads + (size_t)k * s->D;
    double sum = -(double)s->D * s->LS[N];
    for (int d = 0; d < s->D; d++) sum += s->L0[N - h[d]];
    return sum;
}

static double score_dense(const sampler_t *s, int i, int k) {
    const int N = s->size[k];
    const int *h = s->heads + (size_t)k * s->D;
    const uint8_t *x = s->x + (size_t)i * s->D;
    double sum = -(double)s->D * s->LS[N];
    for (int d = 0; d < s->D; d++) sum += x[d] ? s->L1[h[d]] : s->L0[N - h[d]];
    return sum;
}

static double score_sparse(const sampler_t *s, int i, int k) {
    const int N = s->size[k];
    const int *h = s->heads + (size_t)k * s->D;
    double sum = s->off_sum[k];
    for (int j = s->on_start[i]; j < s->on_start[i + 1]; j++) {
        const int d = s->on[j];
        sum += s->L1[h[d]] - s->L0[N - h[d]];
    }
    return sum;
}

static void move_row(sampler_t *s, int i, int k, int step, int variant) {
    int *h = s->heads + (size_t)k * s->D;
    for (int j = s->on_start[i]; j < s->on_start[i + 1]; j++) h[s->on[j]] += step;
    s->size[k] += step;
    if (variant == 1) s->off_sum[k] = group_off_sum(s, k);
}

/* .C entry point. x: n x D row-major 0/1; z: labels 0..cap-1 (in/out);
 * out: seconds per sweep (n_sweeps), moves per sweep, mean candidates per
 * row per sweep. */
void reference_sweep(int *n_, int *D_, int *x_int, int *z, int *cap_,
                     double *alpha_, double *a_, double *b_, int *n_sweeps_,
                     int *seed_, int *variant_, double *out_seconds,
                     int *out_moves, double *out_candidates, int *status) {
    const int n = *n_, D = *D_, cap = *cap_, variant = *variant_;
    sampler_t s = {n, D, cap};
    uint8_t *x = malloc((size_t)n * D);
    int *on_start = malloc((size_t)(n + 1) * sizeof(int));
    long n_on = 0;
    for (long j = 0; j < (long)n * D; j++) n_on += x_int[j] != 0;
    int *on = malloc((size_t)(n_on + 1) * sizeof(int));
    s.size = calloc(cap, sizeof(int));
    s.heads = calloc((size_t)cap * D, sizeof(int));
    s.L1 = malloc((size_t)(n + 1) * sizeof(double));
    s.L0 = malloc((size_t)(n + 1) * sizeof(double));
    s.LS = malloc((size_t)(n + 1) * sizeof(double));
    s.log_int = malloc((size_t)(n + 1) * sizeof(double));
    s.off_sum = calloc(cap, sizeof(double));
    int *order = malloc((size_t)n * sizeof(int));
    int *cand = malloc((size_t)(cap + 1) * sizeof(int));
    double *lw = malloc((size_t)(cap + 1) * sizeof(double));
    *status = !(x && on_start && on && s.size && s.heads && s.L1 && s.L0 &&
                s.LS && s.log_int && s.off_sum && order && cand && lw);
    if (*status) goto done;
    long m = 0;
    for (int i = 0; i < n; i++) {
        on_start[i] = (int)m;
        for (int d = 0; d < D; d++) {
            x[(size_t)i * D + d] = (uint8_t)(x_int[(size_t)i * D + d] != 0);
            if (x_int[(size_t)i * D + d]) on[m++] = d;
        }
    }
    on_start[n] = (int)m;
    s.x = x;
    s.on_start = on_start;
    s.on = on;
    s.z = z;
    for (int c = 0; c <= n; c++) {
        s.L1[c] = log(*a_ + c);
        s.L0[c] = log(*b_ + c);
        s.LS[c] = log(*a_ + *b_ + c);
        s.log_int[c] = log((double)c);
    }
    for (int i = 0; i < n; i++) {
        s.size[z[i]]++;
        for (int j = on_start[i]; j < on_start[i + 1]; j++)
            s.heads[(size_t)z[i] * D + on[j]]++;
    }
    for (int k = 0; k < cap; k++) s.off_sum[k] = group_off_sum(&s, k);
    const double log_alpha = log(*alpha_);
    uint64_t rng = (uint64_t)*seed_;
    for (int sweep = 0; sweep < *n_sweeps_; sweep++) {
        const double start = seconds();
        int moves = 0;
        long candidates = 0;
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = (int)(unif(&rng) * (i + 1));
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int step = 0; step < n; step++) {
            const int i = order[step], old = z[i];
            move_row(&s, i, old, -1, variant);
            int K = 0, empty = -1;
            for (int k = 0; k < cap; k++) {
                if (s.size[k] == 0) {
                    if (empty < 0) empty = k;
                    continue;
                }
                cand[K] = k;
                lw[K++] = s.log_int[s.size[k]] +
                          (variant ? score_sparse(&s, i, k) : score_dense(&s, i, k));
            }
            if (empty >= 0) {
                cand[K] = empty;
                lw[K++] = log_alpha + (variant ? score_sparse(&s, i, empty)
                                               : score_dense(&s, i, empty));
            }
            candidates += K;
            double max = lw[0], total = 0.0;
            for (int k = 1; k < K; k++) if (lw[k] > max) max = lw[k];
            for (int k = 0; k < K; k++) total += (lw[k] = exp(lw[k] - max));
            double u = unif(&rng) * total;
            int c = 0;
            while (c < K - 1 && u >= lw[c]) u -= lw[c++];
            const int chosen = cand[c];
            /* An empty group on offer must stay available: with every slot
             * taken the sampler cannot open one (the caller gives room). */
            move_row(&s, i, chosen, +1, variant);
            z[i] = chosen;
            moves += chosen != old;
        }
        out_seconds[sweep] = seconds() - start;
        out_moves[sweep] = moves;
        out_candidates[sweep] = (double)candidates / n;
    }
done:
    free(x); free(on_start); free(on); free(s.size); free(s.heads);
    free(s.L1); free(s.L0); free(s.LS); free(s.log_int); free(s.off_sum);
    free(order); free(cand); free(lw);
}

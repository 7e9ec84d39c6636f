/* Greedy search for the partition of least posterior expected loss
 * (partition_search.h). */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "partition_search.h"
#include "parallel.h"
#include "rng.h"
#include "status.h"

static double xlog2x(double x) { return x > 0 ? x * log2(x) : 0.0; }

/* Relabels 0, 1, ... by first appearance; returns the number of labels.
 * `map` has room for n entries. */
static int relabel_first_appearance(int *labels, int n, int *map) {
    for (int i = 0; i < n; i++) map[i] = -1;
    int next = 0;
    for (int i = 0; i < n; i++) {
        if (map[labels[i]] < 0) map[labels[i]] = next++;
        labels[i] = map[labels[i]];
    }
    return next;
}

/* The contingency table of c and each draw is sparse: at most n of its
 * L x K cells are non-zero, and a dense table would take O(L K) time and
 * up to n^2 memory per draw when both partitions are fine. So the rows are
 * sorted once by their cluster in c (counting sort), and per draw bucketed
 * stably by their cluster in the draw: within a draw cluster l the rows
 * then come in order of k, and each run of equal k is one non-zero cell
 * N_lk. O(n + K) memory and O(n) time per draw; the cells are summed in
 * the order l, then k, of the dense table, so the losses are the same to
 * the bit. */
int partition_draw_losses(const label_draws_t *draws, const int *labels,
                          int loss, double *out) {
    const int n = draws->n;
    int K = 0;
    for (int i = 0; i < n; i++)
        if (labels[i] + 1 > K) K = labels[i] + 1;
    int *size_c = calloc((size_t)K + 1, sizeof(int));
    int *size_d = malloc((size_t)n * sizeof(int) + 1);
    int *rows_by_c = malloc((size_t)n * sizeof(int) + 1);
    int *bucket = malloc((size_t)n * sizeof(int) + 1);
    int *bucket_start = malloc(((size_t)n + 1) * sizeof(int));
    if (!size_c || !size_d || !rows_by_c || !bucket || !bucket_start) {
        free(size_c);
        free(size_d);
        free(rows_by_c);
        free(bucket);
        free(bucket_start);
        return MS_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++) size_c[labels[i]]++;
    double sum_c = 0;
    for (int k = 0; k < K; k++)
        sum_c += loss == LOSS_VI ? xlog2x(size_c[k]) : (double)size_c[k] * size_c[k];
    /* Rows in order of their cluster in c: size_c turned into offsets. */
    {
        int next = 0;
        for (int k = 0; k < K; k++) {
            const int m = size_c[k];
            size_c[k] = next;
            next += m;
        }
        for (int i = 0; i < n; i++) rows_by_c[size_c[labels[i]]++] = i;
    }
    for (int t = 0; t < draws->n_draws; t++) {
        int L = 0;
        for (int i = 0; i < n; i++) {
            const int l = label_draws_get(draws, t, i);
            if (l + 1 > L) L = l + 1;
        }
        memset(size_d, 0, (size_t)L * sizeof(int));
        for (int i = 0; i < n; i++) size_d[label_draws_get(draws, t, i)]++;
        int next = 0;
        for (int l = 0; l < L; l++) {
            bucket_start[l] = next;
            next += size_d[l];
        }
        bucket_start[L] = next;
        for (int j = 0; j < n; j++) {
            const int i = rows_by_c[j];
            bucket[bucket_start[label_draws_get(draws, t, i)]++] = i;
        }
        /* bucket_start[l] now ends cluster l, i.e. starts l + 1. */
        double sum_d = 0, sum_cd = 0;
        int from = 0;
        for (int l = 0; l < L; l++) {
            sum_d += loss == LOSS_VI ? xlog2x(size_d[l]) : (double)size_d[l] * size_d[l];
            const int to = bucket_start[l];
            int j = from;
            while (j < to) {
                const int k = labels[bucket[j]];
                int count = 0;
                while (j < to && labels[bucket[j]] == k) {
                    count++;
                    j++;
                }
                sum_cd += loss == LOSS_VI ? xlog2x(count) : (double)count * count;
            }
            from = to;
        }
        out[t] = (sum_c + sum_d - 2 * sum_cd) /
                 (loss == LOSS_VI ? (double)n : (double)n * n);
    }
    free(size_c);
    free(size_d);
    free(rows_by_c);
    free(bucket);
    free(bucket_start);
    return MS_OK;
}

/* The search's working memory: the candidate partition, its cluster sizes
 * and, per draw t and cluster l of the draw, the list of the candidate's
 * clusters that share rows with l, with the number of rows shared
 * (N_kl > 0). A row of draw cluster l can only meet the candidate clusters
 * in that list, so scoring a move costs O(draws x overlaps), not
 * O(draws x K); the list of (t, l) has room for the m_l rows of l. */
typedef struct {
    const label_draws_t *draws;
    const int *by_row;          /* n x n_draws: row i's label in each draw */
    const size_t *draw_offset;  /* n_draws: first (t, l) index of draw t */
    const size_t *list_start;   /* per (t, l): where its list starts */
    int n, n_clusters;          /* clusters 0..n_clusters-1, some may be empty */
    int *label;                 /* n: candidate cluster of each row, or -1 */
    int *size;                  /* n + 1 */
    int *list_len;              /* per (t, l) */
    int *list_k, *list_count;   /* n_draws x n: the lists */
    const double *gain;         /* g(x) - g(0): marginal cost of a shared row */
    double *cost;               /* n + 1: scratch */
} search_t;

static void search_free(search_t *s) {
    free(s->size);
    free(s->list_len);
    free(s->list_k);
    free(s->list_count);
    free(s->cost);
}

static void search_move(search_t *s, int i, int k, int delta) {
    const label_draws_t *d = s->draws;
    s->size[k] += delta;
    const int *lab = s->by_row + (size_t)i * d->n_draws;
    for (int t = 0; t < d->n_draws; t++) {
        const size_t at = s->draw_offset[t] + (size_t)lab[t];
        int *ks = s->list_k + s->list_start[at], *cs = s->list_count + s->list_start[at];
        const int len = s->list_len[at];
        int j = 0;
        while (j < len && ks[j] != k) j++;
        if (delta > 0) {
            if (j == len) {
                ks[j] = k;
                cs[j] = 1;
                s->list_len[at]++;
            } else {
                cs[j]++;
            }
        } else if (--cs[j] == 0) {
            ks[j] = ks[len - 1];
            cs[j] = cs[len - 1];
            s->list_len[at]--;
        }
    }
}

/* Empties the candidate and its lists, then adds the rows with a label. */
static void search_reset(search_t *s, size_t n_lists) {
    memset(s->list_len, 0, n_lists * sizeof(int));
    memset(s->size, 0, ((size_t)s->n + 1) * sizeof(int));
    for (int i = 0; i < s->n; i++)
        if (s->label[i] >= 0) search_move(s, i, s->label[i], +1);
}

/* Puts the unallocated row i in the cluster of least expected loss given
 * the allocated rows (an empty cluster counts as one new cluster); stays
 * in `current` unless another is strictly better. Returns the cluster. */
static int search_place(search_t *s, int i, int current, int loss) {
    const label_draws_t *d = s->draws;
    int empty = -1;
    for (int k = 0; k < s->n_clusters; k++)
        if (s->size[k] == 0) {
            empty = k;
            break;
        }
    if (empty < 0) empty = s->n_clusters++;  /* at most n: row i is unallocated */
    /* The size term: f(m + 1) - f(m), which for VI is the gain table. */
    if (loss == LOSS_VI) {
        for (int k = 0; k < s->n_clusters; k++) s->cost[k] = s->gain[s->size[k]];
    } else {
        for (int k = 0; k < s->n_clusters; k++) s->cost[k] = 2.0 * s->size[k] + 1;
    }
    const int *lab = s->by_row + (size_t)i * d->n_draws;
    for (int t = 0; t < d->n_draws; t++) {
        const size_t at = s->draw_offset[t] + (size_t)lab[t];
        const int *ks = s->list_k + s->list_start[at], *cs = s->list_count + s->list_start[at];
        const int len = s->list_len[at];
        const double w = 2 * d->weight[t];
        for (int j = 0; j < len; j++) s->cost[ks[j]] -= w * s->gain[cs[j]];
    }
    int best = current >= 0 ? current : empty;
    for (int k = 0; k < s->n_clusters; k++) {
        if (s->size[k] == 0 && k != empty) continue;
        if (s->cost[k] < s->cost[best] - 1e-12 * (1 + fabs(s->cost[best]))) best = k;
    }
    s->label[i] = best;
    search_move(s, i, best, +1);
    return best;
}

static void shuffle(int *order, int n, rng_t *rng) {
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        const int j = (int)rng_below(rng, (uint32_t)i + 1);
        const int tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
}

/* Sweeps of single-row moves until none helps. MS_OK or MS_ERR_NOMEM. */
static int search_sweeps(search_t *s, int *order, int max_sweeps, int loss,
                         rng_t *rng, parallel_pool_t *pool) {
    for (int sweep = 0; sweep < max_sweeps; sweep++) {
        /* A sweep is O(n x draws x overlaps): stop between sweeps when the
         * pool asks (an interrupt; with one thread, this also polls). The
         * run's result is then not used. */
        if (parallel_stop_requested(pool)) return MS_OK;
        int changed = 0;
        shuffle(order, s->n, rng);
        for (int j = 0; j < s->n; j++) {
            const int i = order[j], k = s->label[i];
            search_move(s, i, k, -1);
            s->label[i] = -1;
            const int to = search_place(s, i, k, loss);
            if (to < 0) return MS_ERR_NOMEM;
            changed += to != k;
        }
        if (!changed) break;
    }
    return MS_OK;
}

/* One search: a run of the whole search, on its own stream and memory, so
 * that runs can go to threads and the result does not depend on which
 * thread ran which. */
typedef struct {
    const label_draws_t *draws;
    int loss, n_runs, n_starts, max_sweeps;
    uint64_t seed;
    const int *n_labels;
    const int *by_row;
    const size_t *draw_offset, *list_start;
    size_t n_lists;
    const double *gain;
    int *result;        /* n_runs + n_starts partitions of n */
    double *expected;   /* their expected losses */
} search_job_t;

static int search_unit(void *ctx, int run, int thread, parallel_pool_t *pool) {
    (void)thread;
    const search_job_t *job = ctx;
    const label_draws_t *draws = job->draws;
    const int n = draws->n, S = draws->n_draws;
    search_t s;
    memset(&s, 0, sizeof(s));
    s.draws = draws;
    s.by_row = job->by_row;
    s.draw_offset = job->draw_offset;
    s.list_start = job->list_start;
    s.gain = job->gain;
    s.n = n;
    s.label = job->result + (size_t)run * n;
    s.size = malloc(((size_t)n + 1) * sizeof(int));
    s.cost = malloc(((size_t)n + 1) * sizeof(double));
    s.list_len = malloc(job->n_lists * sizeof(int) + 1);
    s.list_k = malloc((size_t)S * (size_t)n * sizeof(int) + 1);
    s.list_count = malloc((size_t)S * (size_t)n * sizeof(int) + 1);
    int *order = malloc((size_t)n * sizeof(int));
    int *map = malloc((size_t)n * sizeof(int));
    double *losses = malloc((size_t)S * sizeof(double) + 1);
    int status = s.size && s.cost && s.list_len && s.list_k && s.list_count &&
                 order && map && losses ? MS_OK : MS_ERR_NOMEM;
    rng_t rng;
    rng_seed(&rng, rng_derive_seed(job->seed, (uint64_t)run));
    if (status == MS_OK && run < job->n_runs) {
        /* Sequential allocation in a random order (SALSO's start). */
        for (int i = 0; i < n; i++) s.label[i] = -1;
        s.n_clusters = 0;
        search_reset(&s, job->n_lists);
        shuffle(order, n, &rng);
        for (int j = 0; j < n; j++) search_place(&s, order[j], -1, job->loss);
    } else if (status == MS_OK) {
        /* Start from a draw, evenly spaced over the sample. */
        const int t = (int)(((int64_t)(run - job->n_runs) * S) / job->n_starts);
        for (int i = 0; i < n; i++) s.label[i] = label_draws_get(draws, t, i);
        s.n_clusters = job->n_labels[t];
        search_reset(&s, job->n_lists);
    }
    if (status == MS_OK)
        status = search_sweeps(&s, order, job->max_sweeps, job->loss, &rng, pool);
    if (status == MS_OK) {
        relabel_first_appearance(s.label, n, map);
        status = partition_draw_losses(draws, s.label, job->loss, losses);
    }
    if (status == MS_OK) {
        double expected = 0;
        for (int t = 0; t < S; t++) expected += draws->weight[t] * losses[t];
        job->expected[run] = expected;
    }
    search_free(&s);
    free(order);
    free(map);
    free(losses);
    return status;
}

int partition_search(const label_draws_t *draws, int loss, int n_runs,
                     int n_draw_starts, int max_sweeps, uint64_t seed,
                     int n_threads, int *best, double *best_loss,
                     parallel_poll_fn poll, void *poll_ctx) {
    const int n = draws->n, S = draws->n_draws;
    const int starts = n_draw_starts < S ? n_draw_starts : S;
    /* Counted in 64 bits, and the runs' partitions (total x n ints, all
     * kept until the best is chosen) checked against size_t. */
    const int64_t total64 = (int64_t)n_runs + (int64_t)starts;
    if (n_runs < 0 || starts < 0 || total64 < 1 || total64 > INT_MAX ||
        (uint64_t)total64 > SIZE_MAX / sizeof(int) / ((size_t)n + 1))
        return MS_ERR_NOMEM;
    const int total = (int)total64;
    int *n_labels = malloc((size_t)S * sizeof(int) + 1);
    double *gain = malloc(((size_t)n + 1) * sizeof(double));
    int *result = malloc((size_t)total * (size_t)n * sizeof(int) + 1);
    double *expected = malloc((size_t)total * sizeof(double) + 1);
    /* Each row's labels over the draws, contiguous: a move reads them all. */
    int *by_row = malloc((size_t)n * (size_t)S * sizeof(int) + 1);
    size_t *draw_offset = malloc((size_t)S * sizeof(size_t) + 1);
    int status = n_labels && gain && result && expected && by_row && draw_offset
                     ? MS_OK : MS_ERR_NOMEM;
    size_t *list_start = NULL;
    size_t n_lists = 0;
    if (status == MS_OK) {
        /* g(x) - g(0): the g(0) terms are the same for every cluster. */
        for (int x = 0; x <= n; x++)
            gain[x] = loss == LOSS_VI ? xlog2x(x + 1) - xlog2x(x) : 2.0 * x;
        for (int t = 0; t < S; t++) {
            int L = 0;
            for (int i = 0; i < n; i++) {
                const int l = label_draws_get(draws, t, i);
                by_row[(size_t)i * S + t] = l;
                if (l + 1 > L) L = l + 1;
            }
            n_labels[t] = L;
            draw_offset[t] = n_lists;
            n_lists += (size_t)L;
        }
        /* Each (t, l) list has room for the m_l rows of cluster l. */
        list_start = calloc(n_lists + 1, sizeof(size_t));
        if (list_start == NULL) status = MS_ERR_NOMEM;
    }
    if (status == MS_OK) {
        size_t *count = list_start;  /* sizes first, then offsets */
        for (int t = 0; t < S; t++)
            for (int i = 0; i < n; i++) count[draw_offset[t] + by_row[(size_t)i * S + t]]++;
        size_t next = 0;
        for (size_t j = 0; j < n_lists; j++) {
            const size_t m = count[j];
            list_start[j] = next;
            next += m;
        }
        search_job_t job = {draws, loss, n_runs, starts, max_sweeps, seed,
                            n_labels, by_row, draw_offset, list_start, n_lists,
                            gain, result, expected};
        status = parallel_for(total, n_threads, search_unit, &job, poll, poll_ctx);
    }
    if (status == MS_OK) {
        /* The best run, ties to the first: the same for any thread count. */
        int winner = 0;
        for (int r = 1; r < total; r++)
            if (expected[r] < expected[winner] - 1e-12 * (1 + fabs(expected[winner])))
                winner = r;
        *best_loss = expected[winner];
        memcpy(best, result + (size_t)winner * n, (size_t)n * sizeof(int));
    }
    free(n_labels);
    free(by_row);
    free(draw_offset);
    free(list_start);
    free(gain);
    free(result);
    free(expected);
    return status;
}

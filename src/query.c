/* Posterior-predictive queries: see query.h for the model.
 *
 * Work plan. For every state, the predictive tables of its groups (plus the
 * new group) are computed once per call, in parallel over states:
 *   log_off[d][k] = log p(x_d = 0 | group k)    delta[d][k] = log p(1) - log p(0)
 *   base_off[k]   = sum_d log_off[d][k]         log_w[k]    = log size_k (log alpha)
 *   p_on[k][d]    = p(x_d = 1 | group k)
 * log_off and delta are feature-major, so adding one feature to the scores
 * of all groups is a contiguous vector add. A query row's group scores are
 *   log_w + (sum of log_off over the observed entries) + (sum of delta over
 *   the observed 1s);
 * the middle term depends only on which entries are missing, is computed
 * the cheaper way (over the observed entries, or base_off minus the missing
 * ones) and is cached per thread while consecutive rows share a missing
 * pattern, so a row usually costs one vector add per observed 1: a sparse
 * scan like the assign kernel's. Drawing and the exact sum read p_on
 * group-major, so the missing entries of one group are read together.
 *
 * Threads take blocks of 16 rows from a shared counter; a block is copied in
 * and out a column at a time, so its rows share the cache lines of the
 * column-major matrices. Each (state, row) pair has its own random stream,
 * seeded with rng_derive_seed(seed, state * n_rows + row), and each row is
 * handled start to finish by one thread with the states in order, so the
 * results do not depend on the thread count. States are processed in chunks
 * whose tables fit a memory budget; a chunk is a pass over all rows. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <float.h>

#include "query.h"
#include "rng.h"
#include "status.h"

#define ROWS_PER_BLOCK 16
#define TABLE_BUDGET_BYTES ((size_t)256 << 20)
#define DRAW_BUFFER_BYTES (32.0 * 1024 * 1024) /* per thread */
#define WAIT_SLICE_NS 50000000L /* poll for interrupts every 50 ms */

/* ------------------------------------------------------------------------ */
/* Validation */

int query_check_states(const query_problem_t *p, const char **reason) {
    int D = p->D;
    for (int s = 0; s < p->n_states; s++) {
        const query_state_t *st = &p->states[s];
        if (st->K < 0) {
            *reason = "a negative number of groups";
            return s + 1;
        }
        if (!(isfinite(st->alpha) && st->alpha > 0)) {
            *reason = "a cluster concentration `alpha` that is not finite and > 0";
            return s + 1;
        }
        for (int i = 0; i < 2 * D; i++) {
            if (!(isfinite(st->hp[i]) && st->hp[i] > 0)) {
                *reason = "feature hyperparameters that are not finite and > 0";
                return s + 1;
            }
        }
        for (int k = 0; k < st->K; k++) {
            if (st->size[k] < 1) {
                *reason = "a group size < 1";
                return s + 1;
            }
        }
        for (int d = 0; d < D; d++) {
            for (int k = 0; k < st->K; k++) {
                long idx = (long)k + (long)d * st->K;
                int h = st->heads[idx], t = st->tails[idx];
                if (h < 0 || t < 0 || (long)h + (long)t > (long)st->size[k]) {
                    *reason = "heads or tails counts that are negative or exceed the group size";
                    return s + 1;
                }
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Predictive tables */

typedef struct {
    int K1;                 /* groups + the new group */
    double negligible;      /* QUERY_EXACT: group weights below this are dropped */
    double *log_w;          /* K1: log size_k, log alpha */
    double *base_off;       /* K1: sum_d log_off[d][k] */
    double *log_off;        /* D x K1, feature-major */
    double *delta;          /* D x K1: log_on - log_off */
    double *p_on;           /* K1 x D, group-major */
} table_t;

static size_t table_doubles(int K1, int D) {
    return (size_t)K1 * (2 + 3 * (size_t)D);
}

/* Lays a table out in `mem` (table_doubles(K1, D) doubles) and fills it. */
static void table_build(table_t *tb, double *mem, const query_state_t *st,
                        int D) {
    int K = st->K, K1 = K + 1;
    size_t cells = (size_t)K1 * D;
    tb->K1 = K1;
    tb->log_w = mem;
    tb->base_off = mem + K1;
    tb->log_off = mem + 2 * (size_t)K1;
    tb->delta = tb->log_off + cells;
    tb->p_on = tb->delta + cells;

    for (int k = 0; k < K; k++) tb->log_w[k] = log((double)st->size[k]);
    tb->log_w[K] = log(st->alpha);
    for (int k = 0; k < K1; k++) tb->base_off[k] = 0.0;

    double p_min = 1.0;
    for (int d = 0; d < D; d++) {
        double a = st->hp[d], b = st->hp[d + D];
        double *loff = tb->log_off + (size_t)d * K1;
        double *dl = tb->delta + (size_t)d * K1;
        const int *h = st->heads + (size_t)d * K;
        const int *t = st->tails + (size_t)d * K;
        for (int k = 0; k < K1; k++) {
            double on = a + (k < K ? (double)h[k] : 0.0);
            double off = b + (k < K ? (double)t[k] : 0.0);
            double total = on + off;
            /* logs of ratios: two logs a cell, accurate when p is near 1 */
            loff[k] = log(off / total);
            dl[k] = log(on / off);
            tb->base_off[k] += loff[k];
            double p = on / total;
            tb->p_on[(size_t)k * D + d] = p;
            if (p < p_min) p_min = p;
        }
    }
    /* Every exact answer is sum_k w_k p_kd >= p_min (the weights sum to 1),
     * so dropping groups of weight < eps/2 * p_min / K1 moves it by less
     * than half an ulp: the sum stays exact to double precision but skips
     * the groups a row plainly does not belong to (most of them). */
    tb->negligible = 0.5 * DBL_EPSILON * p_min / K1;
}

/* ------------------------------------------------------------------------ */
/* Threads: a parallel for over units of work */

typedef int (*unit_fn)(void *ctx, int unit, int thread);

typedef struct {
    unit_fn fn;
    void *ctx;
    int n_units;
    int next_unit;
    int n_running;
    int status;
    int cancel;
    pthread_mutex_t mu;
    pthread_cond_t done;
} pool_t;

typedef struct {
    pool_t *pool;
    int thread;
} worker_arg_t;

static void *worker(void *arg) {
    worker_arg_t *wa = arg;
    pool_t *pool = wa->pool;
    for (;;) {
        pthread_mutex_lock(&pool->mu);
        int u = pool->cancel ? pool->n_units : pool->next_unit++;
        pthread_mutex_unlock(&pool->mu);
        if (u >= pool->n_units) break;
        int status = pool->fn(pool->ctx, u, wa->thread);
        if (status != MS_OK) {
            pthread_mutex_lock(&pool->mu);
            if (pool->status == MS_OK) pool->status = status;
            pool->cancel = 1;
            pthread_mutex_unlock(&pool->mu);
            break;
        }
    }
    pthread_mutex_lock(&pool->mu);
    pool->n_running--;
    pthread_cond_signal(&pool->done);
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

static int run_inline(unit_fn fn, void *ctx, int n_units,
                      query_interrupt_fn interrupted, void *ictx) {
    for (int u = 0; u < n_units; u++) {
        int status = fn(ctx, u, 0);
        if (status != MS_OK) return status;
        if (interrupted && (u & 15) == 15 && interrupted(ictx))
            return MS_INTERRUPTED;
    }
    return MS_OK;
}

/* Runs fn(ctx, u, thread) for u in [0, n_units) on up to n_threads threads
 * (thread in [0, n_threads) names the caller's scratch). The calling thread
 * waits and polls `interrupted` every WAIT_SLICE_NS. */
static int parallel_for(unit_fn fn, void *ctx, int n_units, int n_threads,
                        query_interrupt_fn interrupted, void *ictx) {
    if (n_threads > n_units) n_threads = n_units;
    if (n_threads <= 1) return run_inline(fn, ctx, n_units, interrupted, ictx);

    pool_t pool;
    pool.fn = fn;
    pool.ctx = ctx;
    pool.n_units = n_units;
    pool.next_unit = 0;
    pool.n_running = 0;
    pool.status = MS_OK;
    pool.cancel = 0;
    if (pthread_mutex_init(&pool.mu, NULL) != 0) return MS_ERR_NOMEM;
    if (pthread_cond_init(&pool.done, NULL) != 0) {
        pthread_mutex_destroy(&pool.mu);
        return MS_ERR_NOMEM;
    }
    pthread_t *tid = malloc((size_t)n_threads * sizeof(pthread_t));
    worker_arg_t *args = malloc((size_t)n_threads * sizeof(worker_arg_t));
    if (!tid || !args) {
        free(tid);
        free(args);
        pthread_mutex_destroy(&pool.mu);
        pthread_cond_destroy(&pool.done);
        return MS_ERR_NOMEM;
    }

    int started = 0;
    for (int t = 0; t < n_threads; t++) {
        args[t].pool = &pool;
        args[t].thread = t;
        pthread_mutex_lock(&pool.mu);
        pool.n_running++;
        pthread_mutex_unlock(&pool.mu);
        if (pthread_create(&tid[t], NULL, worker, &args[t]) != 0) {
            pthread_mutex_lock(&pool.mu);
            pool.n_running--;
            pthread_mutex_unlock(&pool.mu);
            break;
        }
        started++;
    }

    int status;
    if (started == 0) {
        /* No thread could start: do the work here. */
        status = run_inline(fn, ctx, n_units, interrupted, ictx);
    } else {
        int user_stop = 0;
        pthread_mutex_lock(&pool.mu);
        while (pool.n_running > 0) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += WAIT_SLICE_NS;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec += 1;
                until.tv_nsec -= 1000000000L;
            }
            int rc = pthread_cond_timedwait(&pool.done, &pool.mu, &until);
            if (rc == ETIMEDOUT && !user_stop && interrupted) {
                /* The hook may run R code: call it without the lock. */
                pthread_mutex_unlock(&pool.mu);
                int stop = interrupted(ictx);
                pthread_mutex_lock(&pool.mu);
                if (stop) {
                    user_stop = 1;
                    pool.cancel = 1;
                }
            }
        }
        pthread_mutex_unlock(&pool.mu);
        for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
        status = pool.status;
        if (status == MS_OK && user_stop) status = MS_INTERRUPTED;
    }
    free(tid);
    free(args);
    pthread_mutex_destroy(&pool.mu);
    pthread_cond_destroy(&pool.done);
    return status;
}

/* ------------------------------------------------------------------------ */
/* Query rows, a block at a time */

typedef struct {
    int *on, *miss;         /* D each: observed 1s and missing features */
    uint8_t *row;           /* D: the row as bytes (missing entries 0) */
    int pattern_valid;      /* pattern_miss / pattern_base describe a pattern */
    int pattern_n_miss;
    int *pattern_miss;      /* D */
    double *pattern_base;   /* chunk states x Kmax1 */
    double *weight;         /* Kmax1 */
    double *cum;            /* Kmax1 */
    double *acc;            /* D */
    int *count;             /* D */
    int *xb;                /* ROWS_PER_BLOCK x D, row-major */
    double *ob;             /* ROWS_PER_BLOCK x D, row-major (AVG, EXACT, MODE) */
    uint8_t *db;            /* n_draws x ROWS_PER_BLOCK x D (QUERY_DRAWS) or NULL */
} scratch_t;

typedef struct {
    const query_problem_t *p;
    table_t *tables;        /* tables of the states [s_begin, s_end) */
    double *table_mem;
    const size_t *table_offset;
    int s_begin, s_end;
    int Kmax1;
    const int *draw_start;  /* n_states + 1 offsets into draw_list */
    const int *draw_list;   /* draws of each state, in increasing order */
    int mode_in_integers;   /* QUERY_MODE with equal weights and draw counts */
    double *accumulator;    /* n x D: out_double (AVG, EXACT) or the mode margin */
    scratch_t *scratch;     /* one per thread */
} pass_t;

static int build_table_unit(void *ctx, int unit, int thread) {
    (void)thread;
    pass_t *ps = ctx;
    int s = ps->s_begin + unit;
    table_build(&ps->tables[unit], ps->table_mem + ps->table_offset[unit],
                &ps->p->states[s], ps->p->D);
    return MS_OK;
}

/* log_w + the log predictive of the observed entries, all taken as 0s, for
 * the missing pattern of the row in sc (adding delta over the row's 1s then
 * gives the group scores). The sum is done in a fixed order that depends on
 * the pattern only, so a cached copy equals a recomputed one. */
static void pattern_base(const table_t *tb, const int *row_x, int D,
                         const scratch_t *sc, int n_miss, double *base) {
    int K1 = tb->K1;
    if (D - n_miss <= n_miss) {
        memcpy(base, tb->log_w, (size_t)K1 * sizeof(double));
        for (int d = 0; d < D; d++) {
            if (row_x[d] == QUERY_MISSING) continue;
            const double *v = tb->log_off + (size_t)d * K1;
            for (int k = 0; k < K1; k++) base[k] += v[k];
        }
    } else {
        for (int k = 0; k < K1; k++) base[k] = tb->log_w[k] + tb->base_off[k];
        for (int m = 0; m < n_miss; m++) {
            const double *v = tb->log_off + (size_t)sc->miss[m] * K1;
            for (int k = 0; k < K1; k++) base[k] -= v[k];
        }
    }
}

static int draw_group(rng_t *rng, const double *cum, int K1) {
    double u = rng_unif(rng) * cum[K1 - 1];
    int lo = 0, hi = K1 - 1;
    while (lo < hi) {       /* first k with u < cum[k] */
        int mid = (lo + hi) / 2;
        if (u < cum[mid]) hi = mid; else lo = mid + 1;
    }
    return lo;
}

/* Row r of the block that starts at row i0. */
static int process_row(const pass_t *ps, scratch_t *sc, int i0, int r,
                       int nb) {
    const query_problem_t *p = ps->p;
    int n = p->n_rows, D = p->D, i = i0 + r;
    size_t nD = (size_t)n * D;
    const int *row_x = sc->xb + (size_t)r * D;
    double *orow = sc->ob ? sc->ob + (size_t)r * D : NULL;

    int n_on = 0, n_miss = 0;
    for (int d = 0; d < D; d++) {
        int v = row_x[d];
        if (v == QUERY_MISSING) {
            sc->miss[n_miss++] = d;
            sc->row[d] = 0;
        } else {
            if (v) sc->on[n_on++] = d;
            sc->row[d] = (uint8_t)v;
        }
    }

    /* Rows of a query usually share their missing pattern (e.g. the bottom
     * half of every image): then the observed 0s cost nothing per row. */
    if (!sc->pattern_valid || sc->pattern_n_miss != n_miss ||
        memcmp(sc->pattern_miss, sc->miss, (size_t)n_miss * sizeof(int)) != 0) {
        for (int s = ps->s_begin; s < ps->s_end; s++)
            pattern_base(&ps->tables[s - ps->s_begin], row_x, D, sc, n_miss,
                         sc->pattern_base + (size_t)(s - ps->s_begin) * ps->Kmax1);
        memcpy(sc->pattern_miss, sc->miss, (size_t)n_miss * sizeof(int));
        sc->pattern_n_miss = n_miss;
        sc->pattern_valid = 1;
    }

    for (int s = ps->s_begin; s < ps->s_end; s++) {
        const table_t *tb = &ps->tables[s - ps->s_begin];
        int first = 0, last = 0;
        if (p->kind == QUERY_EXACT) {
            if (!(p->state_weight[s] > 0)) continue;
        } else {
            first = ps->draw_start[s];
            last = ps->draw_start[s + 1];
            if (first == last) continue;
        }

        /* group posterior: w_k ~ size_k p(observed | k), w_new ~ alpha p(observed) */
        int K1 = tb->K1;
        double *w = sc->weight;
        memcpy(w, sc->pattern_base + (size_t)(s - ps->s_begin) * ps->Kmax1,
               (size_t)K1 * sizeof(double));
        for (int m = 0; m < n_on; m++) {
            const double *v = tb->delta + (size_t)sc->on[m] * K1;
            for (int k = 0; k < K1; k++) w[k] += v[k];
        }
        double max = -INFINITY;
        for (int k = 0; k < K1; k++)
            if (w[k] > max) max = w[k];
        if (!isfinite(max)) return MS_ERR_NUMERIC;
        double total = 0.0;
        for (int k = 0; k < K1; k++) {
            w[k] = exp(w[k] - max);
            total += w[k];
            sc->cum[k] = total;
        }

        if (p->kind == QUERY_EXACT) {
            double *acc = sc->acc;
            for (int m = 0; m < n_miss; m++) acc[m] = 0.0;
            for (int k = 0; k < K1; k++) {
                double wk = w[k] / total;
                if (wk < tb->negligible) continue;
                const double *pk = tb->p_on + (size_t)k * D;
                for (int m = 0; m < n_miss; m++) acc[m] += wk * pk[sc->miss[m]];
            }
            double ws = p->state_weight[s];
            for (int m = 0; m < n_miss; m++) orow[sc->miss[m]] += ws * acc[m];
            continue;
        }

        rng_t rng;
        rng_seed(&rng, rng_derive_seed(p->seed, (uint64_t)s * (uint64_t)n +
                                                    (uint64_t)i));
        int *count = sc->count;
        if (p->kind != QUERY_DRAWS)
            for (int m = 0; m < n_miss; m++) count[m] = 0;
        for (int q = first; q < last; q++) {
            int k = draw_group(&rng, sc->cum, K1);
            const double *pk = tb->p_on + (size_t)k * D;
            if (p->kind != QUERY_DRAWS) {
                for (int m = 0; m < n_miss; m++)
                    count[m] += rng_unif(&rng) < pk[sc->miss[m]];
                continue;
            }
            int j = ps->draw_list[q];
            if (sc->db) {
                uint8_t *dst = sc->db + ((size_t)j * nb + r) * D;
                memcpy(dst, sc->row, (size_t)D);
                for (int m = 0; m < n_miss; m++) {
                    int d = sc->miss[m];
                    dst[d] = rng_unif(&rng) < pk[d];
                }
            } else {
                int *out = p->out_int + (size_t)j * nD + i;
                for (int d = 0; d < D; d++) out[(size_t)d * n] = sc->row[d];
                for (int m = 0; m < n_miss; m++) {
                    int d = sc->miss[m];
                    out[(size_t)d * n] = rng_unif(&rng) < pk[d];
                }
            }
        }
        int n_s = last - first;
        if (p->kind == QUERY_AVG) {
            double f = p->state_weight[s] / n_s;
            for (int m = 0; m < n_miss; m++) orow[sc->miss[m]] += f * count[m];
        } else if (p->kind == QUERY_MODE) {
            /* margin = weighted frequency of 1s minus that of 0s; with
             * equal weights it is kept in (exactly representable) integers
             * so that ties are exact ties */
            double f = ps->mode_in_integers ? 1.0 : p->state_weight[s] / n_s;
            for (int m = 0; m < n_miss; m++)
                orow[sc->miss[m]] += f * (2 * count[m] - n_s);
        }
    }
    return MS_OK;
}

static int row_block_unit(void *ctx, int b, int thread) {
    pass_t *ps = ctx;
    const query_problem_t *p = ps->p;
    scratch_t *sc = &ps->scratch[thread];
    int n = p->n_rows, D = p->D;
    size_t nD = (size_t)n * D;
    int i0 = b * ROWS_PER_BLOCK;
    int nb = n - i0 < ROWS_PER_BLOCK ? n - i0 : ROWS_PER_BLOCK;

    /* Copy the block in and out a column at a time: the rows of a block
     * share cache lines of the column-major matrices. */
    for (int d = 0; d < D; d++)
        for (int r = 0; r < nb; r++)
            sc->xb[(size_t)r * D + d] = p->x[i0 + r + (size_t)d * n];
    if (sc->ob) {
        for (int d = 0; d < D; d++)
            for (int r = 0; r < nb; r++)
                sc->ob[(size_t)r * D + d] = ps->accumulator[i0 + r + (size_t)d * n];
    }

    for (int r = 0; r < nb; r++) {
        int status = process_row(ps, sc, i0, r, nb);
        if (status != MS_OK) return status;
    }

    if (sc->ob) {
        for (int d = 0; d < D; d++)
            for (int r = 0; r < nb; r++)
                ps->accumulator[i0 + r + (size_t)d * n] = sc->ob[(size_t)r * D + d];
    }
    if (sc->db) {
        for (int s = ps->s_begin; s < ps->s_end; s++) {
            for (int q = ps->draw_start[s]; q < ps->draw_start[s + 1]; q++) {
                int j = ps->draw_list[q];
                const uint8_t *src = sc->db + (size_t)j * nb * D;
                int *out = p->out_int + (size_t)j * nD + i0;
                for (int d = 0; d < D; d++)
                    for (int r = 0; r < nb; r++)
                        out[(size_t)d * n + r] = src[(size_t)r * D + d];
            }
        }
    }
    return MS_OK;
}

/* ------------------------------------------------------------------------ */
/* Driver */

static void scratch_free(scratch_t *sc) {
    free(sc->on);
    free(sc->miss);
    free(sc->row);
    free(sc->pattern_miss);
    free(sc->pattern_base);
    free(sc->weight);
    free(sc->cum);
    free(sc->acc);
    free(sc->count);
    free(sc->xb);
    free(sc->ob);
    free(sc->db);
}

static int scratch_alloc(scratch_t *sc, const query_problem_t *p,
                         int chunk_states, int Kmax1, int buffer_draws) {
    size_t D1 = (size_t)p->D + 1;
    memset(sc, 0, sizeof(*sc));
    sc->on = malloc(D1 * sizeof(int));
    sc->miss = malloc(D1 * sizeof(int));
    sc->row = malloc(D1);
    sc->pattern_miss = malloc(D1 * sizeof(int));
    sc->pattern_base = malloc((size_t)chunk_states * Kmax1 * sizeof(double));
    sc->weight = malloc((size_t)Kmax1 * sizeof(double));
    sc->cum = malloc((size_t)Kmax1 * sizeof(double));
    sc->acc = malloc(D1 * sizeof(double));
    sc->count = malloc(D1 * sizeof(int));
    sc->xb = malloc(ROWS_PER_BLOCK * D1 * sizeof(int));
    if (p->kind != QUERY_DRAWS)
        sc->ob = malloc(ROWS_PER_BLOCK * D1 * sizeof(double));
    if (buffer_draws)
        sc->db = malloc((size_t)p->n_draws * ROWS_PER_BLOCK * D1);
    if (!sc->on || !sc->miss || !sc->row || !sc->pattern_miss ||
        !sc->pattern_base || !sc->weight || !sc->cum || !sc->acc ||
        !sc->count || !sc->xb || (p->kind != QUERY_DRAWS && !sc->ob) ||
        (buffer_draws && !sc->db))
        return MS_ERR_NOMEM;
    return MS_OK;
}

/* The states [s0, end) whose tables fit the budget (at least one). */
static int chunk_end(const query_problem_t *p, int s0, size_t budget) {
    size_t used = 0;
    int s1 = s0;
    while (s1 < p->n_states) {
        size_t need = table_doubles(p->states[s1].K + 1, p->D);
        if (s1 > s0 && used + need > budget) break;
        used += need;
        s1++;
    }
    return s1;
}

int query_run(const query_problem_t *p, int n_threads,
              query_interrupt_fn interrupted, void *ctx) {
    int n = p->n_rows, D = p->D, S = p->n_states;
    size_t nD = (size_t)n * D;
    if (n_threads < 1) n_threads = 1;

    /* Observed entries are returned as given; missing ones start at 0. */
    if (p->kind == QUERY_AVG || p->kind == QUERY_EXACT) {
        for (size_t c = 0; c < nD; c++)
            p->out_double[c] = p->x[c] == QUERY_MISSING ? 0.0 : (double)p->x[c];
    }
    if (p->kind == QUERY_MODE) {
        for (size_t c = 0; c < nD; c++) p->out_int[c] = p->x[c] == 1;
    }
    if (n == 0 || S == 0 || (p->kind != QUERY_EXACT && p->n_draws == 0))
        return MS_OK;

    int status = MS_OK;
    int n_blocks = (n + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    if (n_threads > n_blocks) n_threads = n_blocks;
    size_t budget = TABLE_BUDGET_BYTES / sizeof(double);

    int Kmax1 = 1, chunk_states = 0;
    size_t chunk_doubles = 0;
    for (int s = 0; s < S; s++)
        if (p->states[s].K + 1 > Kmax1) Kmax1 = p->states[s].K + 1;
    for (int s0 = 0; s0 < S;) {
        int s1 = chunk_end(p, s0, budget);
        size_t used = 0;
        for (int s = s0; s < s1; s++)
            used += table_doubles(p->states[s].K + 1, D);
        if (used > chunk_doubles) chunk_doubles = used;
        if (s1 - s0 > chunk_states) chunk_states = s1 - s0;
        s0 = s1;
    }

    int *draw_start = calloc((size_t)S + 1, sizeof(int));
    int *draw_list = malloc(((size_t)p->n_draws + 1) * sizeof(int));
    int *fill = malloc(((size_t)S + 1) * sizeof(int));
    double *margin = NULL;
    double *table_mem = malloc(chunk_doubles * sizeof(double));
    table_t *tables = malloc((size_t)chunk_states * sizeof(table_t));
    size_t *table_offset = malloc((size_t)chunk_states * sizeof(size_t));
    scratch_t *scratch = calloc((size_t)n_threads, sizeof(scratch_t));
    if (!draw_start || !draw_list || !fill || !table_mem || !tables ||
        !table_offset || !scratch) {
        status = MS_ERR_NOMEM;
        goto done;
    }

    /* Draws of each state, in increasing order (counting sort). */
    if (p->kind != QUERY_EXACT) {
        for (int j = 0; j < p->n_draws; j++) draw_start[p->draw_state[j] + 1]++;
        for (int s = 0; s < S; s++) draw_start[s + 1] += draw_start[s];
        memcpy(fill, draw_start, ((size_t)S + 1) * sizeof(int));
        for (int j = 0; j < p->n_draws; j++)
            draw_list[fill[p->draw_state[j]]++] = j;
    }

    int mode_in_integers = 0;
    if (p->kind == QUERY_MODE) {
        mode_in_integers = 1;
        int n_first = draw_start[1] - draw_start[0];
        for (int s = 0; s < S; s++)
            if (p->state_weight[s] != p->state_weight[0] ||
                draw_start[s + 1] - draw_start[s] != n_first)
                mode_in_integers = 0;
        margin = calloc(nD, sizeof(double));
        if (!margin) { status = MS_ERR_NOMEM; goto done; }
    }

    /* Draws go through a per-block buffer when it is small enough: rows
     * of a block then write whole cache lines of the output. */
    int buffer_draws = p->kind == QUERY_DRAWS &&
        (double)p->n_draws * ROWS_PER_BLOCK * (D + 1) <= DRAW_BUFFER_BYTES;
    for (int t = 0; t < n_threads; t++) {
        status = scratch_alloc(&scratch[t], p, chunk_states, Kmax1,
                               buffer_draws);
        if (status != MS_OK) goto done;
    }

    pass_t ps;
    ps.p = p;
    ps.tables = tables;
    ps.table_mem = table_mem;
    ps.table_offset = table_offset;
    ps.Kmax1 = Kmax1;
    ps.draw_start = draw_start;
    ps.draw_list = draw_list;
    ps.mode_in_integers = mode_in_integers;
    ps.accumulator = p->kind == QUERY_MODE ? margin : p->out_double;
    ps.scratch = scratch;
    for (int s0 = 0; s0 < S && status == MS_OK;) {
        int s1 = chunk_end(p, s0, budget);
        size_t used = 0;
        for (int s = s0; s < s1; s++) {
            table_offset[s - s0] = used;
            used += table_doubles(p->states[s].K + 1, D);
        }
        ps.s_begin = s0;
        ps.s_end = s1;
        status = parallel_for(build_table_unit, &ps, s1 - s0, n_threads,
                              interrupted, ctx);
        if (status != MS_OK) break;
        for (int t = 0; t < n_threads; t++) scratch[t].pattern_valid = 0;
        status = parallel_for(row_block_unit, &ps, n_blocks, n_threads,
                              interrupted, ctx);
        s0 = s1;
    }

    if (status == MS_OK && p->kind == QUERY_MODE) {
        for (size_t c = 0; c < nD; c++)
            if (p->x[c] == QUERY_MISSING) p->out_int[c] = margin[c] > 0;
    }

done:
    if (scratch) {
        for (int t = 0; t < n_threads; t++) scratch_free(&scratch[t]);
        free(scratch);
    }
    free(table_offset);
    free(tables);
    free(table_mem);
    free(margin);
    free(fill);
    free(draw_list);
    free(draw_start);
    return status;
}

/* ------------------------------------------------------------------------ */
/* Co-clustering */

typedef struct {
    double *z;
    int n, n_states;
    const int *const *label;
    const double *weight;
} zmatrix_t;

#define ZMATRIX_COLUMNS_PER_UNIT 64

static int zmatrix_unit(void *ctx, int unit, int thread) {
    (void)thread;
    const zmatrix_t *zm = ctx;
    int n = zm->n;
    int j_end = (unit + 1) * ZMATRIX_COLUMNS_PER_UNIT;
    if (j_end > n) j_end = n;
    for (int j = unit * ZMATRIX_COLUMNS_PER_UNIT; j < j_end; j++) {
        double *col = zm->z + (size_t)j * n;
        for (int i = 0; i < n; i++) col[i] = 0.0;
        for (int s = 0; s < zm->n_states; s++) {
            double w = zm->weight[s];
            if (!(w > 0)) continue;
            const int *l = zm->label[s];
            int lj = l[j];
            for (int i = 0; i < n; i++) col[i] += (l[i] == lj) ? w : 0.0;
        }
    }
    return MS_OK;
}

int query_zmatrix(double *z, int n, int n_states, const int *const *label,
                  const double *weight, int n_threads,
                  query_interrupt_fn interrupted, void *ctx) {
    zmatrix_t zm = {z, n, n_states, label, weight};
    int n_units = (n + ZMATRIX_COLUMNS_PER_UNIT - 1) / ZMATRIX_COLUMNS_PER_UNIT;
    return parallel_for(zmatrix_unit, &zm, n_units, n_threads, interrupted,
                        ctx);
}

double query_pair_agreement(const int *u, const int *rows_by_v,
                            const int *v_start, int n_labels_v, int *count) {
    long long total = 0;
    for (int l = 0; l < n_labels_v; l++) {
        /* (c + 1)^2 - c^2 = 2c + 1: the square of each cell grows as it fills */
        for (int r = v_start[l]; r < v_start[l + 1]; r++) {
            int c = count[u[rows_by_v[r]]]++;
            total += 2 * (long long)c + 1;
        }
        for (int r = v_start[l]; r < v_start[l + 1]; r++)
            count[u[rows_by_v[r]]] = 0;
    }
    return (double)total;
}

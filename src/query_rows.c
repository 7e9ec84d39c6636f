/* Scoring, drawing and exact sums for the query rows of one pass: see
 * query_rows.h.
 *
 * A query row's group scores are
 *   log_w + (sum of log_off over the observed entries) + (sum of delta over
 *   the observed 1s)
 * (query_tables.h). The middle term depends only on which entries are
 * missing, is computed the cheaper way (over the observed entries, or
 * base_off minus the missing ones) and is cached per thread while
 * consecutive rows share a missing pattern, so a row usually costs one
 * vector add per observed 1: a sparse scan like the assign kernel's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "query_rows.h"
#include "rng.h"
#include "status.h"

/* log_w + the log predictive of the observed entries, all taken as 0s, for
 * the missing pattern of the row in sc (adding delta over the row's 1s then
 * gives the group scores). The sum is done in a fixed order that depends on
 * the pattern only, so a cached copy equals a recomputed one. */
static void pattern_base(const query_table_t *tb, const int *row_x, int D,
                         const row_scratch_t *sc, int n_miss,
                         double *base) {
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
static int process_row(const query_pass_t *ps, row_scratch_t *sc, int i0,
                       int r, int nb) {
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
        const query_table_t *tb = &ps->tables[s - ps->s_begin];
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

int query_rows_block(void *ctx, int b, int thread, parallel_pool_t *pool) {
    /* A block is short: it runs to the end even when the pool stops. */
    (void)pool;
    query_pass_t *ps = ctx;
    const query_problem_t *p = ps->p;
    row_scratch_t *sc = &ps->scratch[thread];
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

void row_scratch_free(row_scratch_t *sc) {
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

int row_scratch_alloc(row_scratch_t *sc, const query_problem_t *p,
                      int chunk_states, int Kmax1, int buffer_draws) {
    size_t D1 = (size_t)p->D + 1;
    memset(sc, 0, sizeof(*sc));
    sc->on = ms_malloc(D1 * sizeof(int));
    sc->miss = ms_malloc(D1 * sizeof(int));
    sc->row = ms_malloc(D1);
    sc->pattern_miss = ms_malloc(D1 * sizeof(int));
    sc->pattern_base = ms_malloc((size_t)chunk_states * Kmax1 * sizeof(double));
    sc->weight = ms_malloc((size_t)Kmax1 * sizeof(double));
    sc->cum = ms_malloc((size_t)Kmax1 * sizeof(double));
    sc->acc = ms_malloc(D1 * sizeof(double));
    sc->count = ms_malloc(D1 * sizeof(int));
    sc->xb = ms_malloc(ROWS_PER_BLOCK * D1 * sizeof(int));
    if (p->kind != QUERY_DRAWS)
        sc->ob = ms_malloc(ROWS_PER_BLOCK * D1 * sizeof(double));
    if (buffer_draws)
        sc->db = ms_malloc((size_t)p->n_draws * ROWS_PER_BLOCK * D1);
    if (!sc->on || !sc->miss || !sc->row || !sc->pattern_miss ||
        !sc->pattern_base || !sc->weight || !sc->cum || !sc->acc ||
        !sc->count || !sc->xb || (p->kind != QUERY_DRAWS && !sc->ob) ||
        (buffer_draws && !sc->db))
        return MS_ERR_NOMEM;
    return MS_OK;
}

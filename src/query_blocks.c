/* qb_run(): posterior-predictive queries on mixed states (query_blocks.h).
 *
 * Two passes on the worker pool: first one unit per state builds that
 * state's feature blocks from its statistics (slot k < K = group k, slot K
 * the empty new group); then one unit per block of query rows scores each
 * row against every state's groups and draws or averages. A row sees the
 * states in order and each (state, row) pair has its own random stream, so
 * results depend neither on the thread count nor on which thread ran a
 * unit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "block.h"
#include "block_kinds.h"
#include "block_util.h"
#include "query_blocks.h"
#include "rng.h"
#include "status.h"

#define QB_ROWS_PER_UNIT 8

int qb_cell_width(int kind, int n_levels) {
    return block_kind_is_vector(kind) ? n_levels : 1;
}

int qb_n_stats(int kind, int n_levels) {
    switch (kind) {
    case BLOCK_BETA_BERNOULLI: return 2;          /* heads, tails */
    case BLOCK_DIRICHLET_DISCRETE: return n_levels; /* count per level */
    case BLOCK_DIRICHLET_MULTINOMIAL: return n_levels + 2; /* n, sums, coef */
    case BLOCK_NORMAL_INVERSE_WISHART:  /* n, mean (d), scatter (d x d) */
        return 1 + n_levels + n_levels * n_levels;
    case BLOCK_BETA_BERNOULLI_NONCONJ: return 5;  /* heads, tails, p, logs */
    default: return 3;  /* gp/bnb n, sum, sum log x! / log C; nich n, mean, m2 */
    }
}

int qb_n_hp(int kind, int n_levels) {
    switch (kind) {
    case BLOCK_DIRICHLET_DISCRETE: return n_levels;
    case BLOCK_DIRICHLET_MULTINOMIAL: return n_levels;
    case BLOCK_NORMAL_INVERSE_CHISQ: return 4;
    case BLOCK_NORMAL_INVERSE_WISHART: /* mu0, lambda, psi, nu */
        return n_levels * n_levels + n_levels + 2;
    default: return 2;
    }
}

int qb_mean_size(int kind, int n_levels) {
    return kind == BLOCK_DIRICHLET_DISCRETE || block_kind_is_vector(kind)
               ? n_levels : 1;
}

/* ------------------------------------------------------------------------ */
/* Validation */

static int whole(double v) { return isfinite(v) && v == floor(v); }

static int check_cell(int kind, int n_levels, double v) {
    if (isnan(v)) return 1;
    switch (kind) {
    case BLOCK_BETA_BERNOULLI:
    case BLOCK_BETA_BERNOULLI_NONCONJ: return v == 0.0 || v == 1.0;
    case BLOCK_DIRICHLET_DISCRETE: return whole(v) && v >= 0 && v < n_levels;
    case BLOCK_GAMMA_POISSON:
    case BLOCK_BETA_NEGATIVE_BINOMIAL:
        return whole(v) && v >= 0 && v <= 2147483647.0;
    case BLOCK_DIRICHLET_MULTINOMIAL:
        return whole(v) && v >= 0 && v <= 2147483647.0;
    default: return isfinite(v);
    }
}

/* Row i's cell of feature d (columns x_column .. + width of the n x C
 * query): every entry NaN or valid; a dm cell all NaN or all counts (a
 * partly missing count vector has no total to condition on). */
static int check_query_cell(const qb_problem_t *p, int d, int x_column,
                            int i) {
    const int kind = p->kind[d], w = qb_cell_width(kind, p->n_levels[d]);
    int n_nan = 0;
    for (int l = 0; l < w; l++) {
        double v = p->x[i + (size_t)(x_column + l) * p->n_rows];
        if (isnan(v)) n_nan++;
        else if (!check_cell(kind, p->n_levels[d], v)) return 0;
    }
    return !(kind == BLOCK_DIRICHLET_MULTINOMIAL && n_nan > 0 && n_nan < w);
}

/* Group k's statistics of feature d (of `kind`) against the group's size. */
static const char *check_stats(int kind, int n_levels, const double *st,
                               int K, int k, double size) {
    const double a = st[k], b = K > 0 && n_levels != 1 ? st[k + K] : 0.0;
    switch (kind) {
    case BLOCK_BETA_BERNOULLI:
        if (!whole(a) || !whole(b) || a < 0 || b < 0 || a + b > size)
            return "heads and tails that are not counts within the group's size";
        return NULL;
    case BLOCK_BETA_BERNOULLI_NONCONJ: {
        /* Counts, then the explicit p as its two logs (block_bbnc.h). */
        const double log_p = st[k + 3 * (size_t)K], log_1mp = st[k + 4 * (size_t)K];
        if (!whole(a) || !whole(b) || a < 0 || b < 0 || a + b > size)
            return "heads and tails that are not counts within the group's size";
        if (!(log_p <= 0) || !(log_1mp <= 0) || !isfinite(log_p) ||
            !isfinite(log_1mp) || fabs(exp(log_p) + exp(log_1mp) - 1.0) > 1e-9)
            return "a log p and log(1 - p) that do not describe one p";
        return NULL;
    }
    case BLOCK_DIRICHLET_DISCRETE: {
        double total = 0;
        for (int l = 0; l < n_levels; l++) {
            double v = st[k + (size_t)l * K];
            if (!whole(v) || v < 0) return "level counts that are not counts";
            total += v;
        }
        if (total > size) return "level counts above the group's size";
        return NULL;
    }
    case BLOCK_DIRICHLET_MULTINOMIAL: {
        /* n, the k level sums, the sum of log multinomial coefficients */
        if (!whole(a) || a < 0 || a > size)
            return "a count `n` that is not within the group's size";
        for (int l = 1; l <= n_levels; l++) {
            double v = st[k + (size_t)l * K];
            if (!whole(v) || v < 0 || (a == 0 && v != 0))
                return "level sums that are not sums of counts";
        }
        double coef = st[k + (size_t)(n_levels + 1) * K];
        if (!isfinite(coef) || coef < -1e-6)
            return "a sum of log multinomial coefficients that is not finite and >= 0";
        return NULL;
    }
    case BLOCK_NORMAL_INVERSE_WISHART: {
        /* n, the mean (d), the scatter (d x d): a symmetric matrix with a
         * diagonal >= 0 (its positive semidefiniteness the block's own
         * factorisation of psi + scatter checks) */
        const int d = n_levels;
        if (!whole(a) || a < 0 || a > size)
            return "a count `n` that is not within the group's size";
        for (int l = 1; l <= d; l++)
            if (!isfinite(st[k + (size_t)l * K])) return "a `mean` that is not finite";
        for (int r = 0; r < d; r++)
            for (int c = 0; c < d; c++) {
                double v = st[k + (size_t)(1 + d + r + c * d) * K];
                double u = st[k + (size_t)(1 + d + c + r * d) * K];
                if (!isfinite(v) || (r == c && v < 0) ||
                    fabs(v - u) > 1e-9 * (fabs(v) + fabs(u)))
                    return "a scatter matrix that is not finite, symmetric "
                           "with a diagonal >= 0";
            }
        return NULL;
    }
    case BLOCK_GAMMA_POISSON:
    case BLOCK_BETA_NEGATIVE_BINOMIAL: {
        double third = st[k + 2 * (size_t)K];
        if (!whole(a) || a < 0 || a > size)
            return "a count `n` that is not within the group's size";
        if (!whole(b) || b < 0 || b > 9007199254740992.0 || (a == 0 && b != 0))
            return "a `sum` that is not a sum of counts";
        if (!isfinite(third) || third < 0)
            return "a third statistic that is not finite and >= 0";
        return NULL;
    }
    default: {
        double m2 = st[k + 2 * (size_t)K];
        if (!whole(a) || a < 0 || a > size)
            return "a count `n` that is not within the group's size";
        if (!isfinite(b)) return "a `mean` that is not finite";
        if (!isfinite(m2) || m2 < 0) return "an `m2` that is not finite and >= 0";
        return NULL;
    }
    }
}

int qb_check(const qb_problem_t *p, char *msg, size_t msg_size) {
    for (int d = 0; d < p->D; d++) {
        int kind = p->kind[d];
        if (kind < 0 || kind >= N_BLOCK_KINDS) {
            snprintf(msg, msg_size, "feature %d has an unknown model kind", d + 1);
            return 1;
        }
        if (kind == BLOCK_DIRICHLET_DISCRETE && p->n_levels[d] < 1) {
            snprintf(msg, msg_size, "feature %d has no levels", d + 1);
            return 1;
        }
        if (kind == BLOCK_BETA_NEGATIVE_BINOMIAL &&
            !(isfinite(p->parameter[d]) && p->parameter[d] > 0)) {
            snprintf(msg, msg_size, "feature %d has an `r` that is not > 0", d + 1);
            return 1;
        }
        if (block_kind_is_vector(kind) && p->n_levels[d] < 1) {
            snprintf(msg, msg_size, "feature %d has no cell width", d + 1);
            return 1;
        }
    }
    for (int d = 0, x_column = 0; d < p->D; d++) {
        for (int i = 0; i < p->n_rows; i++) {
            if (!check_query_cell(p, d, x_column, i)) {
                snprintf(msg, msg_size,
                         "query row %d, feature %d holds a value its model does not take",
                         i + 1, d + 1);
                return 2;
            }
        }
        x_column += qb_cell_width(p->kind[d], p->n_levels[d]);
    }
    for (int s = 0; s < p->n_states; s++) {
        const qb_state_t *st = &p->states[s];
        if (st->K < 0 || !(isfinite(st->alpha) && st->alpha > 0) ||
            st->groups < 0 || (st->groups > 0 && st->K > st->groups)) {
            snprintf(msg, msg_size,
                     "state %d has alpha not > 0 or more groups than its finite mixture allows",
                     s + 1);
            return 3;
        }
        for (int k = 0; k < st->K; k++) {
            if (!(whole(st->size[k]) && st->size[k] >= 1)) {
                snprintf(msg, msg_size, "state %d has a group size that is not >= 1", s + 1);
                return 3;
            }
        }
        for (int d = 0; d < p->D; d++) {
            int kind = p->kind[d], L = p->n_levels[d];
            int n_hp = qb_n_hp(kind, L);
            for (int c = 0; c < n_hp; c++) {
                double h = st->hp[d][c];
                /* nich's mu (coordinate 0) is any real; the others > 0;
                 * niw's mu0 and psi are real, lambda and nu > 0 (psi
                 * positive definite and nu > d - 1: the block's setup
                 * refuses others) */
                int real_line = (kind == BLOCK_NORMAL_INVERSE_CHISQ && c == 0) ||
                                (kind == BLOCK_NORMAL_INVERSE_WISHART && c != L &&
                                 c != L * L + L + 1);
                if (!isfinite(h) || (!real_line && !(h > 0))) {
                    snprintf(msg, msg_size,
                             "state %d, feature %d has a hyperparameter that is not finite%s",
                             s + 1, d + 1, real_line ? "" : " and > 0");
                    return 3;
                }
            }
            for (int k = 0; k < st->K; k++) {
                const char *why = check_stats(kind, L, st->stats[d], st->K, k,
                                              st->size[k]);
                if (why) {
                    snprintf(msg, msg_size, "state %d, feature %d, group %d has %s",
                             s + 1, d + 1, k + 1, why);
                    return 3;
                }
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Blocks of one state */

/* The features of each kind (the same for every state). */
typedef struct {
    int n_features[N_BLOCK_KINDS];
    int *feature[N_BLOCK_KINDS];        /* global ids, increasing */
    int *hp_offset[N_BLOCK_KINDS];      /* n_features + 1 */
    int *n_levels[N_BLOCK_KINDS];       /* dd */
    double *parameter[N_BLOCK_KINDS];   /* bnb */
    int *local;                         /* D: index within its kind */
    int *x_column;                      /* D + 1: first query column */
    int max_width;                      /* widest cell */
} qb_layout_t;

typedef struct {
    int built[N_BLOCK_KINDS];
    block_t block[N_BLOCK_KINDS];
} qb_blocks_t;

typedef struct {
    double *logw, *scratch, *mean;
    double *cell;                   /* one cell (max_width), then its draw */
} qb_scratch_t;

typedef struct {
    const qb_problem_t *p;
    qb_layout_t *layout;
    qb_blocks_t *blocks;            /* one per state */
    int *draw_start, *draw_list;
    qb_scratch_t *scratch;
    int *mean_column;               /* D: first output column */
    int n_mean_columns;
} qb_pass_t;

static void layout_free(qb_layout_t *L) {
    for (int t = 0; t < N_BLOCK_KINDS; t++) {
        free(L->feature[t]);
        free(L->hp_offset[t]);
        free(L->n_levels[t]);
        free(L->parameter[t]);
    }
    free(L->local);
    free(L->x_column);
}

static int layout_init(qb_layout_t *L, const qb_problem_t *p) {
    memset(L, 0, sizeof *L);
    L->local = ms_malloc(sizeof(int) * (p->D + 1));
    L->x_column = ms_malloc(sizeof(int) * (p->D + 1));
    if (!L->local || !L->x_column) return MS_ERR_NOMEM;
    for (int d = 0; d < p->D; d++) L->local[d] = L->n_features[p->kind[d]]++;
    L->x_column[0] = 0;
    L->max_width = 1;
    for (int d = 0; d < p->D; d++) {
        int w = qb_cell_width(p->kind[d], p->n_levels[d]);
        L->x_column[d + 1] = L->x_column[d] + w;
        if (w > L->max_width) L->max_width = w;
    }
    for (int t = 0; t < N_BLOCK_KINDS; t++) {
        int F = L->n_features[t];
        L->feature[t] = ms_malloc(sizeof(int) * (F + 1));
        L->hp_offset[t] = ms_malloc(sizeof(int) * (F + 1));
        L->n_levels[t] = ms_malloc(sizeof(int) * (F + 1));
        L->parameter[t] = ms_malloc(sizeof(double) * (F + 1));
        if (!L->feature[t] || !L->hp_offset[t] || !L->n_levels[t] ||
            !L->parameter[t])
            return MS_ERR_NOMEM;
        L->hp_offset[t][0] = 0;
    }
    for (int d = 0; d < p->D; d++) {
        int t = p->kind[d], j = L->local[d];
        L->feature[t][j] = d;
        L->n_levels[t][j] = p->n_levels[d];
        L->parameter[t][j] = p->parameter[d];
        L->hp_offset[t][j + 1] = L->hp_offset[t][j] + qb_n_hp(t, p->n_levels[d]);
    }
    return MS_OK;
}

static void blocks_free(qb_blocks_t *B) {
    for (int t = 0; t < N_BLOCK_KINDS; t++)
        if (B->built[t]) B->block[t].ops->free(&B->block[t]);
    memset(B, 0, sizeof *B);
}

/* Builds state s's blocks: no data rows (only the statistics matter to a
 * predictive), K + 1 slots, slot k < K restored by set_stats, slot K left
 * empty; then rebuild so that every slot's tables match. bb is not a block
 * here (see query_blocks.h). */
static int build_state(void *ctx, int unit, int thread, parallel_pool_t *pool) {
    (void)thread;
    (void)pool;
    qb_pass_t *ps = ctx;
    const qb_problem_t *p = ps->p;
    const qb_layout_t *L = ps->layout;
    const qb_state_t *st = &p->states[unit];
    qb_blocks_t *B = &ps->blocks[unit];
    const int K = st->K;
    int status = MS_OK;
    int *size = ms_malloc(sizeof(int) * (K + 1));
    int *active = ms_malloc(sizeof(int) * (K + 1));
    double *hp = NULL, *cell = NULL;
    if (!size || !active) { status = MS_ERR_NOMEM; goto done; }
    for (int k = 0; k < K; k++) {
        size[k] = (int)st->size[k];
        active[k] = k;
    }
    size[K] = 0;
    partition_view_t view = {.n = 0, .capacity = K + 1, .slot_span = K + 1,
                             .size = size, .group_of_row = NULL,
                             .active = active, .n_active = K, .ghost = K};
    int max_stats = 1;
    for (int d = 0; d < p->D; d++) {
        int m = qb_n_stats(p->kind[d], p->n_levels[d]);
        if (m > max_stats) max_stats = m;
    }
    cell = ms_malloc(sizeof(double) * max_stats);
    if (!cell) { status = MS_ERR_NOMEM; goto done; }
    for (int t = 1; t < N_BLOCK_KINDS && status == MS_OK; t++) {
        int F = L->n_features[t];
        if (F == 0) continue;
        free(hp);
        hp = ms_malloc(sizeof(double) * (L->hp_offset[t][F] + 1));
        if (!hp) { status = MS_ERR_NOMEM; break; }
        for (int j = 0; j < F; j++) {
            int d = L->feature[t][j];
            memcpy(hp + L->hp_offset[t][j], st->hp[d],
                   sizeof(double) * (L->hp_offset[t][j + 1] - L->hp_offset[t][j]));
        }
        block_data_t data = {.n = 0, .n_features = F, .ivalues = NULL,
                             .dvalues = NULL,
                             .n_levels = t == BLOCK_DIRICHLET_DISCRETE ? L->n_levels[t] : NULL,
                             .parameter = t == BLOCK_BETA_NEGATIVE_BINOMIAL ? L->parameter[t] : NULL,
                             .bb = NULL};
        if (block_kind_is_vector(t)) {
            /* a vector kind's n_levels are its cell widths */
            data.cell_width = L->n_levels[t];
            data.n_columns = 0;
            for (int j = 0; j < F; j++) data.n_columns += L->n_levels[t][j];
        }
        block_t *b = &B->block[t];
        status = block_init(b, t, &data, L->feature[t], L->hp_offset[t], hp,
                            K + 1);
        B->built[t] = 1; /* free is safe even after a failed init */
        if (status != MS_OK) break;
        for (int j = 0; j < F; j++) {
            int d = L->feature[t][j];
            int m = qb_n_stats(t, p->n_levels[d]);
            for (int k = 0; k < K; k++) {
                for (int c = 0; c < m; c++)
                    cell[c] = st->stats[d][k + (size_t)c * K];
                b->ops->set_stats(b, k, j, cell);
            }
        }
        status = b->ops->rebuild(b, &view);
    }
done:
    free(cell);
    free(hp);
    free(active);
    free(size);
    return status;
}

/* ------------------------------------------------------------------------ */
/* Scoring a row */

/* beta-Bernoulli P(x = 1 | group k), k == K the empty group. */
static double bb_p1(const qb_state_t *st, int d, int k) {
    double h = k < st->K ? st->stats[d][k] : 0.0;
    double t = k < st->K ? st->stats[d][k + st->K] : 0.0;
    double a = st->hp[d][0], b = st->hp[d][1];
    return (a + h) / (a + b + h + t);
}

/* logw[0 .. n_slots): the partition prior's predictive plus the log
 * predictive of row i's observed cells, per slot. Returns n_slots (K, or
 * K + 1 when a new group is possible). */
/* Row i's cell of feature d into cell[0 .. width - 1]; returns the number
 * of its entries that are NaN (to predict). */
static int read_cell(const qb_pass_t *ps, int d, int i, double *cell) {
    const qb_problem_t *p = ps->p;
    const int c0 = ps->layout->x_column[d], w = ps->layout->x_column[d + 1] - c0;
    int n_nan = 0;
    for (int l = 0; l < w; l++) {
        cell[l] = p->x[i + (size_t)(c0 + l) * p->n_rows];
        n_nan += isnan(cell[l]) != 0;
    }
    return n_nan;
}

static int cell_width_of(const qb_pass_t *ps, int d) {
    return ps->layout->x_column[d + 1] - ps->layout->x_column[d];
}

static int score_row(const qb_pass_t *ps, int s, int i, double *logw,
                     double *cell) {
    const qb_problem_t *p = ps->p;
    const qb_state_t *st = &p->states[s];
    const qb_blocks_t *B = &ps->blocks[s];
    const int K = st->K;
    int n_slots = K + 1;
    if (st->groups == 0) {
        for (int k = 0; k < K; k++) logw[k] = log(st->size[k]);
        logw[K] = log(st->alpha);
    } else {
        double share = st->alpha / st->groups;
        for (int k = 0; k < K; k++) logw[k] = log(st->size[k] + share);
        if (st->groups > K) logw[K] = log((st->groups - K) * share);
        else n_slots = K;
    }
    for (int d = 0; d < p->D; d++) {
        /* A cell with every entry missing is left out; a vector cell with
         * some observed entries is scored by its kind, which sees NaN
         * for the others (niw: the marginal of the observed ones). */
        if (read_cell(ps, d, i, cell) == cell_width_of(ps, d)) continue;
        double x = cell[0];
        int t = p->kind[d];
        if (t == BLOCK_BETA_BERNOULLI) {
            for (int k = 0; k < n_slots; k++) {
                double p1 = bb_p1(st, d, k);
                logw[k] += log(x == 1.0 ? p1 : 1.0 - p1);
            }
        } else {
            const block_t *b = &B->block[t];
            int j = ps->layout->local[d];
            for (int k = 0; k < n_slots; k++)
                logw[k] += b->ops->log_predictive(b, k, j, cell);
        }
    }
    return n_slots;
}

/* `cell`: the query's cell of a vector feature (NULL for a scalar one);
 * a kind with sample_conditional draws its missing entries given its
 * observed ones (niw), others the whole cell. */
static void sample_cell(const qb_pass_t *ps, int s, int d, int k, rng_t *rng,
                        const double *cell, double *out) {
    const qb_problem_t *p = ps->p;
    int t = p->kind[d];
    if (t == BLOCK_BETA_BERNOULLI) {
        *out = rng_unif(rng) < bb_p1(&p->states[s], d, k) ? 1.0 : 0.0;
    } else {
        const block_t *b = &ps->blocks[s].block[t];
        if (cell != NULL && b->ops->sample_conditional != NULL)
            b->ops->sample_conditional(b, k, ps->layout->local[d], cell, rng, out);
        else
            b->ops->sample_predictive(b, k, ps->layout->local[d], rng, out);
    }
}

static int rows_unit(void *ctx, int unit, int thread, parallel_pool_t *pool) {
    qb_pass_t *ps = ctx;
    const qb_problem_t *p = ps->p;
    qb_scratch_t *sc = &ps->scratch[thread];
    const int n = p->n_rows, D = p->D, C = ps->layout->x_column[D];
    int i0 = unit * QB_ROWS_PER_UNIT, i1 = i0 + QB_ROWS_PER_UNIT;
    if (i1 > n) i1 = n;
    for (int i = i0; i < i1; i++) {
        if (parallel_stop_requested(pool)) return MS_OK;
        for (int s = 0; s < p->n_states; s++) {
            if (p->mode == QBQ_MEAN && !(p->state_weight[s] > 0)) continue;
            if (p->mode == QBQ_DRAWS &&
                ps->draw_start[s + 1] == ps->draw_start[s])
                continue;
            int n_slots = score_row(ps, s, i, sc->logw, sc->cell);
            double top = -INFINITY;
            for (int k = 0; k < n_slots; k++)
                if (sc->logw[k] > top) top = sc->logw[k];
            if (!isfinite(top)) return MS_ERR_NUMERIC;
            if (p->mode == QBQ_GROUPS) {
                const int K1 = p->states[s].K + 1;
                for (int k = 0; k < K1; k++)
                    p->out[i + (size_t)k * n] = k < n_slots ? sc->logw[k] : -INFINITY;
            } else if (p->mode == QBQ_DRAWS) {
                rng_t rng;
                rng_seed(&rng, rng_derive_seed(p->seed, (uint64_t)s * (uint64_t)n +
                                                            (uint64_t)i));
                for (int a = ps->draw_start[s]; a < ps->draw_start[s + 1]; a++) {
                    int j = ps->draw_list[a];
                    int k = rng_categorical_log(&rng, sc->logw, n_slots, sc->scratch);
                    double *out = p->out + (size_t)j * n * C;
                    for (int d = 0; d < D; d++) {
                        const int c0 = ps->layout->x_column[d];
                        if (cell_width_of(ps, d) == 1) {
                            size_t c = i + (size_t)c0 * n;
                            if (isnan(p->x[c])) sample_cell(ps, s, d, k, &rng, NULL, &out[c]);
                            continue;
                        }
                        /* a vector cell: one draw of the whole cell, kept
                         * where the query's entries are missing */
                        if (read_cell(ps, d, i, sc->cell) == 0) continue;
                        sample_cell(ps, s, d, k, &rng, sc->cell, sc->mean);
                        for (int l = 0; l < cell_width_of(ps, d); l++)
                            if (isnan(sc->cell[l]))
                                out[i + (size_t)(c0 + l) * n] = sc->mean[l];
                    }
                }
            } else {
                /* w_k = exp(logw_k - logsumexp) */
                double total = 0.0;
                for (int k = 0; k < n_slots; k++) {
                    sc->scratch[k] = exp(sc->logw[k] - top);
                    total += sc->scratch[k];
                }
                for (int k = 0; k < n_slots; k++) sc->scratch[k] /= total;
                const double ws = p->state_weight[s];
                for (int d = 0; d < D; d++) {
                    if (read_cell(ps, d, i, sc->cell) == 0) continue;
                    const int vector = cell_width_of(ps, d) > 1;
                    int t = p->kind[d];
                    int m = qb_mean_size(t, p->n_levels[d]);
                    double *out = p->out + (size_t)ps->mean_column[d] * n + i;
                    for (int k = 0; k < n_slots; k++) {
                        double w = sc->scratch[k];
                        /* a zero weight times bnb's infinite mean is 0 */
                        if (!(w > 0)) continue;
                        if (t == BLOCK_BETA_BERNOULLI) {
                            sc->mean[0] = bb_p1(&p->states[s], d, k);
                        } else {
                            const block_t *b = &ps->blocks[s].block[t];
                            /* a partly observed vector cell: the mean of
                             * its missing entries given its observed ones
                             * (niw's conditional t), where the kind has it */
                            if (vector && b->ops->conditional_mean != NULL)
                                b->ops->conditional_mean(b, k, ps->layout->local[d],
                                                         sc->cell, sc->mean);
                            else
                                b->ops->predictive_mean(b, k, ps->layout->local[d],
                                                        sc->mean);
                        }
                        /* a vector cell's observed entries stay as given */
                        for (int l = 0; l < m; l++)
                            if (!vector || isnan(sc->cell[l]))
                                out[(size_t)l * n] += ws * w * sc->mean[l];
                    }
                }
            }
        }
    }
    return MS_OK;
}

/* ------------------------------------------------------------------------ */

static void copy_observed(const qb_problem_t *p, const qb_layout_t *L,
                          const int *mean_column) {
    const int n = p->n_rows, D = p->D, C = L->x_column[D];
    if (p->mode == QBQ_GROUPS) return;   /* every cell is written */
    if (p->mode == QBQ_DRAWS) {
        for (int j = 0; j < p->n_draws; j++)
            memcpy(p->out + (size_t)j * n * C, p->x, sizeof(double) * n * C);
        return;
    }
    for (int d = 0; d < D; d++) {
        int m = qb_mean_size(p->kind[d], p->n_levels[d]);
        if (block_kind_is_vector(p->kind[d])) {
            /* mean columns are the cell's: observed entries copied, the
             * missing ones summed into from 0 */
            for (int l = 0; l < m; l++)
                for (int i = 0; i < n; i++) {
                    double x = p->x[i + (size_t)(L->x_column[d] + l) * n];
                    p->out[i + (size_t)(mean_column[d] + l) * n] =
                        isnan(x) ? 0.0 : x;
                }
            continue;
        }
        for (int i = 0; i < n; i++) {
            double x = p->x[i + (size_t)L->x_column[d] * n];
            double *out = p->out + (size_t)mean_column[d] * n + i;
            for (int l = 0; l < m; l++) out[(size_t)l * n] = 0.0;
            if (isnan(x)) continue;
            if (p->kind[d] == BLOCK_DIRICHLET_DISCRETE)
                out[(size_t)x * n] = 1.0;
            else
                out[0] = x;
        }
    }
}

int qb_run(const qb_problem_t *p, int n_threads, parallel_poll_fn poll,
           void *poll_ctx) {
    const int S = p->n_states, D = p->D, n = p->n_rows;
    if (n_threads < 1) n_threads = 1;
    int status = MS_OK;
    qb_layout_t layout;
    qb_pass_t ps;
    memset(&ps, 0, sizeof ps);
    ps.p = p;
    ps.layout = &layout;
    int n_units = (n + QB_ROWS_PER_UNIT - 1) / QB_ROWS_PER_UNIT;
    int row_threads = n_threads < n_units ? n_threads : n_units;
    if (row_threads < 1) row_threads = 1;

    status = layout_init(&layout, p);
    ps.mean_column = ms_malloc(sizeof(int) * (D + 1));
    ps.blocks = ms_calloc((size_t)S + 1, sizeof(qb_blocks_t));
    ps.draw_start = ms_calloc((size_t)S + 2, sizeof(int));
    ps.draw_list = ms_malloc(sizeof(int) * ((size_t)p->n_draws + 1));
    ps.scratch = ms_calloc((size_t)row_threads, sizeof(qb_scratch_t));
    if (status != MS_OK || !ps.mean_column || !ps.blocks || !ps.draw_start ||
        !ps.draw_list || !ps.scratch) {
        status = MS_ERR_NOMEM;
        goto done;
    }
    int M = 0;
    for (int d = 0; d < D; d++) {
        ps.mean_column[d] = M;
        M += qb_mean_size(p->kind[d], p->n_levels[d]);
    }
    ps.n_mean_columns = M;
    copy_observed(p, &layout, ps.mean_column);
    if (n == 0 || S == 0 || (p->mode == QBQ_DRAWS && p->n_draws == 0))
        goto done;

    if (p->mode == QBQ_DRAWS) {
        /* draws of state s: draw_list[draw_start[s] .. draw_start[s + 1]) */
        for (int j = 0; j < p->n_draws; j++) ps.draw_start[p->draw_state[j] + 1]++;
        for (int s = 0; s < S; s++) ps.draw_start[s + 1] += ps.draw_start[s];
        int *fill = ms_malloc(sizeof(int) * ((size_t)S + 1));
        if (!fill) { status = MS_ERR_NOMEM; goto done; }
        memcpy(fill, ps.draw_start, sizeof(int) * ((size_t)S + 1));
        for (int j = 0; j < p->n_draws; j++)
            ps.draw_list[fill[p->draw_state[j]]++] = j;
        free(fill);
    }

    int Kmax1 = 1, Lmax = 1;
    for (int s = 0; s < S; s++)
        if (p->states[s].K + 1 > Kmax1) Kmax1 = p->states[s].K + 1;
    for (int d = 0; d < D; d++)
        if (qb_mean_size(p->kind[d], p->n_levels[d]) > Lmax)
            Lmax = qb_mean_size(p->kind[d], p->n_levels[d]);
    for (int t = 0; t < row_threads; t++) {
        ps.scratch[t].logw = ms_malloc(sizeof(double) * Kmax1);
        ps.scratch[t].scratch = ms_malloc(sizeof(double) * Kmax1);
        ps.scratch[t].mean = ms_malloc(sizeof(double) * Lmax);
        ps.scratch[t].cell = ms_malloc(sizeof(double) * layout.max_width);
        if (!ps.scratch[t].logw || !ps.scratch[t].scratch || !ps.scratch[t].mean ||
            !ps.scratch[t].cell) {
            status = MS_ERR_NOMEM;
            goto done;
        }
    }

    /* gp's setup fills a shared table of log x! on first use: fill it
     * here, on one thread, before the workers build their blocks. */
    block_fill_log_factorials();
    status = parallel_for(S, n_threads < S ? n_threads : S, build_state, &ps,
                          poll, poll_ctx);
    if (status == MS_OK)
        status = parallel_for(n_units, row_threads, rows_unit, &ps, poll,
                              poll_ctx);

done:
    if (ps.scratch) {
        for (int t = 0; t < row_threads; t++) {
            free(ps.scratch[t].logw);
            free(ps.scratch[t].scratch);
            free(ps.scratch[t].mean);
            free(ps.scratch[t].cell);
        }
        free(ps.scratch);
    }
    if (ps.blocks) {
        for (int s = 0; s < S; s++) blocks_free(&ps.blocks[s]);
        free(ps.blocks);
    }
    free(ps.draw_list);
    free(ps.draw_start);
    free(ps.mean_column);
    layout_free(&layout);
    return status;
}

/* query_run(): a posterior-predictive query on the worker pool.
 *
 * States are processed in chunks whose predictive tables (query_tables.h)
 * fit a memory budget. For each chunk the pool first builds the tables, a
 * state a unit, then makes one pass over all query rows, a block of rows a
 * unit (query_rows.h). A row sees the states in order, chunk after chunk,
 * so its sums and draws do not depend on how the states were chunked nor on
 * the thread count. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "query.h"
#include "query_rows.h"
#include "query_tables.h"
#include "status.h"

#define TABLE_BUDGET_BYTES ((size_t)256 << 20)
#define DRAW_BUFFER_BYTES (32.0 * 1024 * 1024) /* per thread */

static int build_table(void *ctx, int unit, int thread,
                       parallel_pool_t *pool) {
    (void)thread;
    (void)pool;
    query_pass_t *ps = ctx;
    int s = ps->s_begin + unit;
    query_table_build(&ps->tables[unit], ps->table_mem + ps->table_offset[unit],
                      &ps->p->states[s], ps->p->D);
    return MS_OK;
}

/* The states [s0, end) whose tables fit the budget (at least one). */
static int chunk_end(const query_problem_t *p, int s0, size_t budget) {
    size_t used = 0;
    int s1 = s0;
    while (s1 < p->n_states) {
        size_t need = query_table_doubles(p->states[s1].K + 1, p->D);
        if (s1 > s0 && used + need > budget) break;
        used += need;
        s1++;
    }
    return s1;
}

/* The most groups of a state (with the new group), and the most states and
 * table doubles of a chunk: what the scratch space must hold. */
static void largest_chunk(const query_problem_t *p, size_t budget, int *Kmax1,
                          int *chunk_states, size_t *chunk_doubles) {
    *Kmax1 = 1;
    *chunk_states = 0;
    *chunk_doubles = 0;
    for (int s = 0; s < p->n_states; s++)
        if (p->states[s].K + 1 > *Kmax1) *Kmax1 = p->states[s].K + 1;
    for (int s0 = 0; s0 < p->n_states;) {
        int s1 = chunk_end(p, s0, budget);
        size_t used = 0;
        for (int s = s0; s < s1; s++)
            used += query_table_doubles(p->states[s].K + 1, p->D);
        if (used > *chunk_doubles) *chunk_doubles = used;
        if (s1 - s0 > *chunk_states) *chunk_states = s1 - s0;
        s0 = s1;
    }
}

/* The draws of each state, in increasing order (counting sort): draws
 * draw_list[draw_start[s] .. draw_start[s + 1]) come from state s. `fill` is
 * scratch of n_states + 1 ints; draw_start must be zeroed. */
static void list_draws_by_state(const query_problem_t *p, int *draw_start,
                                int *draw_list, int *fill) {
    int S = p->n_states;
    for (int j = 0; j < p->n_draws; j++) draw_start[p->draw_state[j] + 1]++;
    for (int s = 0; s < S; s++) draw_start[s + 1] += draw_start[s];
    memcpy(fill, draw_start, ((size_t)S + 1) * sizeof(int));
    for (int j = 0; j < p->n_draws; j++)
        draw_list[fill[p->draw_state[j]]++] = j;
}

/* QUERY_MODE with equal weights and equal draw counts: the margin of 1s
 * over 0s is then kept in integers, so that ties are exact ties. */
static int mode_fits_integers(const query_problem_t *p, const int *draw_start) {
    int n_first = draw_start[1] - draw_start[0];
    for (int s = 0; s < p->n_states; s++)
        if (p->state_weight[s] != p->state_weight[0] ||
            draw_start[s + 1] - draw_start[s] != n_first)
            return 0;
    return 1;
}

int query_run(const query_problem_t *p, int n_threads, parallel_poll_fn poll,
              void *poll_ctx) {
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

    int Kmax1, chunk_states;
    size_t chunk_doubles;
    largest_chunk(p, budget, &Kmax1, &chunk_states, &chunk_doubles);

    int *draw_start = ms_calloc((size_t)S + 1, sizeof(int));
    int *draw_list = ms_malloc(((size_t)p->n_draws + 1) * sizeof(int));
    int *fill = ms_malloc(((size_t)S + 1) * sizeof(int));
    double *margin = NULL;
    double *table_mem = ms_malloc(chunk_doubles * sizeof(double));
    query_table_t *tables = ms_malloc((size_t)chunk_states * sizeof(*tables));
    size_t *table_offset = ms_malloc((size_t)chunk_states * sizeof(size_t));
    row_scratch_t *scratch = ms_calloc((size_t)n_threads, sizeof(row_scratch_t));
    if (!draw_start || !draw_list || !fill || !table_mem || !tables ||
        !table_offset || !scratch) {
        status = MS_ERR_NOMEM;
        goto done;
    }

    if (p->kind != QUERY_EXACT)
        list_draws_by_state(p, draw_start, draw_list, fill);

    int mode_in_integers = 0;
    if (p->kind == QUERY_MODE) {
        mode_in_integers = mode_fits_integers(p, draw_start);
        margin = ms_calloc(nD, sizeof(double));
        if (!margin) { status = MS_ERR_NOMEM; goto done; }
    }

    /* Draws go through a per-block buffer when it is small enough: rows
     * of a block then write whole cache lines of the output. */
    int buffer_draws = p->kind == QUERY_DRAWS &&
        (double)p->n_draws * ROWS_PER_BLOCK * (D + 1) <= DRAW_BUFFER_BYTES;
    for (int t = 0; t < n_threads; t++) {
        status = row_scratch_alloc(&scratch[t], p, chunk_states, Kmax1,
                                   buffer_draws);
        if (status != MS_OK) goto done;
    }

    query_pass_t ps = {
        .p = p, .tables = tables, .table_mem = table_mem,
        .table_offset = table_offset, .Kmax1 = Kmax1,
        .draw_start = draw_start, .draw_list = draw_list,
        .mode_in_integers = mode_in_integers,
        .accumulator = p->kind == QUERY_MODE ? margin : p->out_double,
        .scratch = scratch};
    for (int s0 = 0; s0 < S && status == MS_OK;) {
        int s1 = chunk_end(p, s0, budget);
        size_t used = 0;
        for (int s = s0; s < s1; s++) {
            table_offset[s - s0] = used;
            used += query_table_doubles(p->states[s].K + 1, D);
        }
        ps.s_begin = s0;
        ps.s_end = s1;
        status = parallel_for(s1 - s0, n_threads, build_table, &ps, poll,
                              poll_ctx);
        if (status != MS_OK) break;
        for (int t = 0; t < n_threads; t++) scratch[t].pattern_valid = 0;
        status = parallel_for(n_blocks, n_threads, query_rows_block, &ps,
                              poll, poll_ctx);
        s0 = s1;
    }

    if (status == MS_OK && p->kind == QUERY_MODE) {
        for (size_t c = 0; c < nD; c++)
            if (p->x[c] == QUERY_MISSING) p->out_int[c] = margin[c] > 0;
    }

done:
    if (scratch) {
        for (int t = 0; t < n_threads; t++) row_scratch_free(&scratch[t]);
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

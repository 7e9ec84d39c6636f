/* One pass over the query rows for a chunk of states (internal to
 * query_*.c): the pool's unit is a block of ROWS_PER_BLOCK rows, and every
 * row of a block is handled start to finish, states in order, by the thread
 * that took the block. Each (state, row) pair has its own random stream,
 * seeded with rng_derive_seed(seed, state * n_rows + row), so the results do
 * not depend on the thread count or on which thread takes which block. */
#ifndef MICROSCOPES_QUERY_ROWS_H
#define MICROSCOPES_QUERY_ROWS_H

#include <stddef.h>
#include <stdint.h>
#include "parallel.h"
#include "query.h"
#include "query_tables.h"

#define ROWS_PER_BLOCK 16

/* A thread's scratch space, reused from row to row and block to block. */
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
} row_scratch_t;

/* What a pass shares between its units (read-only but for the outputs, of
 * which each block writes its own rows, and the scratch of each thread). */
typedef struct {
    const query_problem_t *p;
    query_table_t *tables;  /* tables of the states [s_begin, s_end) */
    double *table_mem;
    const size_t *table_offset;
    int s_begin, s_end;
    int Kmax1;
    const int *draw_start;  /* n_states + 1 offsets into draw_list */
    const int *draw_list;   /* draws of each state, in increasing order */
    int mode_in_integers;   /* QUERY_MODE with equal weights and draw counts */
    double *accumulator;    /* n x D: out_double (AVG, EXACT) or the mode margin */
    row_scratch_t *scratch; /* one per thread */
} query_pass_t;

/* Scratch for chunks of up to chunk_states states of up to Kmax1 groups
 * each (with the new group); buffer_draws: QUERY_DRAWS goes through a
 * per-block buffer. Returns MS_OK or MS_ERR_NOMEM; free it with
 * row_scratch_free() either way. */
int row_scratch_alloc(row_scratch_t *sc, const query_problem_t *p,
                      int chunk_states, int Kmax1, int buffer_draws);
void row_scratch_free(row_scratch_t *sc);

/* The pool's unit (ctx: a query_pass_t): the rows of block `block` for the
 * states of the pass. Returns MS_OK or MS_ERR_NUMERIC. */
int query_rows_block(void *ctx, int block, int thread, parallel_pool_t *pool);

#endif

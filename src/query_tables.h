/* Per-state predictive tables of a query (internal to query_*.c).
 *
 * For every state, the predictive of each of its groups (plus the new
 * group) is tabulated once per query, so that scoring a query row is only
 * additions:
 *   log_off[d][k] = log p(x_d = 0 | group k)    delta[d][k] = log p(1) - log p(0)
 *   base_off[k]   = sum_d log_off[d][k]         log_w[k]    = log size_k (log alpha)
 *   p_on[k][d]    = p(x_d = 1 | group k)
 * log_off and delta are feature-major, so adding one feature to the scores
 * of all groups is a contiguous vector add; drawing and the exact sum read
 * p_on group-major, so the missing entries of one group are read together. */
#ifndef MICROSCOPES_QUERY_TABLES_H
#define MICROSCOPES_QUERY_TABLES_H

#include <stddef.h>
#include "query.h"

typedef struct {
    int K1;                 /* groups + the new group */
    double negligible;      /* QUERY_EXACT: group weights below this are dropped */
    double *log_w;          /* K1: log size_k, log alpha */
    double *base_off;       /* K1: sum_d log_off[d][k] */
    double *log_off;        /* D x K1, feature-major */
    double *delta;          /* D x K1: log_on - log_off */
    double *p_on;           /* K1 x D, group-major */
} query_table_t;

/* The doubles a table of K1 groups and D features takes. */
size_t query_table_doubles(int K1, int D);

/* Lays a table out in `mem` (query_table_doubles(st->K + 1, D) doubles) and
 * fills it from state `st`. */
void query_table_build(query_table_t *tb, double *mem, const query_state_t *st,
                       int D);

#endif

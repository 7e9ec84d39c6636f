/* The latent state of one chain: a partition of the rows into groups, the
 * groups' sufficient statistics, the hyperparameters, and cached log
 * predictive tables that make scoring a row against a group a sparse sum.
 *
 * Groups live in numbered slots (group id = slot + 1 in R). Besides the
 * non-empty ("active") slots there is always exactly one empty "ghost" slot:
 * the new group that the assign kernel offers (Neal 2000, algorithm 3).
 *
 * Caches, per slot k and feature d, with h = heads, t = tails, m = h + t,
 * s = a + b:
 *   log_ah  = log(a + h)      log_ahm = log(a + h - 1)   (0 when h = 0)
 *   log_bt  = log(b + t)      log_btm = log(b + t - 1)   (0 when t = 0)
 *   log_sm  = log(s + m)      log_smm = log(s + m - 1)   (0 when m = 0)
 * The "-1" versions give, without touching the tables, a row's score
 * against its own group with the row left out: the common case of a row
 * that stays where it is costs no log at all. When a count moves by one,
 * the old value of one table is the new value of its neighbour, so each
 * observed feature of a moved row costs two logs, never six.
 *   delta     = log_ah - log_bt        delta_loo = log_ahm - log_btm
 *   base[k]   = sum_d (log_bt - log_sm)   base_loo[k] = sum_d (log_btm - log_smm)
 * so that log p(row | group k) = base[k] + sum over on-features of delta
 * minus the (log_bt - log_sm) terms of the row's missing features. */
#ifndef MICROSCOPES_STATE_H
#define MICROSCOPES_STATE_H

#include "data.h"

typedef struct {
    int n, D;
    double alpha;           /* CRP concentration */
    double *a, *b, *s;      /* per-feature beta hyperparameters; s = a + b */
    int *group_of_row;      /* slot of each row */

    int capacity;           /* slots allocated */
    int *size;              /* rows in each slot */
    char *in_use;           /* slot is active or the ghost */
    int *heads, *tails;     /* capacity x D */
    double *log_ah, *log_ahm, *log_bt, *log_btm, *log_sm, *log_smm;
    double *delta, *delta_loo;
    double *base, *base_loo;

    int *active;            /* ids of the non-empty slots */
    int n_active;
    int *position;          /* index of a slot in `active`, or -1 */
    int ghost;              /* the empty slot offered as a new group */
} state_t;

/* Allocates an empty state (no rows assigned) with `capacity` slots. All
 * arrays are zeroed, so state_free is safe after a failure. */
int state_init(state_t *st, int n, int D, const double *a, const double *b,
               double alpha, int capacity);
void state_free(state_t *st);

/* Puts every row in the slot given by slot_of_row (0-based) and builds the
 * tables in bulk (K x D logs, not n x D). Slots must be < st->capacity. */
int state_set_assignment(state_t *st, const data_t *data,
                         const int *slot_of_row);

/* Recomputes every table of the slots in use from the counts; needed after
 * the feature hyperparameters change. */
void state_rebuild_tables(state_t *st);

/* Sets the hyperparameters of feature d (tables are not rebuilt). */
void state_set_feature_hp(state_t *st, int d, double a, double b);

/* Moves row i out of its group, which is released when it empties. */
void state_remove_row(state_t *st, const data_t *data, int row);

/* Adds row i to `slot`; if slot is the ghost, it becomes active and a new
 * ghost is made (which may need memory: MS_ERR_NOMEM). */
int state_add_row(state_t *st, const data_t *data, int row, int slot);

/* log p(row | group in slot) under the cached predictive tables. */
double state_score_row(const state_t *st, const data_t *data, int row,
                       int slot);

/* log p(row | its own group without the row). */
double state_score_row_loo(const state_t *st, const data_t *data, int row);

#endif

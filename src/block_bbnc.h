/* The non-conjugate beta-Bernoulli block (bbnc, datamicroscopes' bbnc):
 * x | p ~ Bernoulli(p), p ~ Beta(alpha, beta) per group and feature, with
 * each group's p kept explicit (not integrated out), the test bed of
 * non-conjugate sampling (Neal 2000, algorithm 8; the theta kernel).
 *
 * Per slot and feature the block keeps the counts of ones (heads) and
 * zeros (tails) of its observed cells and a table of two logs, [log(1 -
 * p), log p], so that a cell x scores table[x] (one load, no branch). p is
 * held on the log scale because a Beta draw with a small alpha lies below
 * the smallest double with high probability (Beta(0.01, 1) puts 0.1 of its
 * mass below 1e-100): drawn as log-gamma variates, both logs stay finite.
 * A slot without a parameter (free slots, the ghost, slots after a
 * recount) holds the prior predictive logs [log(beta / (alpha + beta)),
 * log(alpha / (alpha + beta))] instead, which is what a new group scores
 * with p integrated out. A group without p (a state built from an
 * assignment alone, as log_lik() builds one per draw) scores the collapsed
 * predictive of its counts, and get_stats reports its posterior mean of p,
 * from which a chain made by initialize_state() starts. */
#ifndef MICROSCOPES_BLOCK_BBNC_H
#define MICROSCOPES_BLOCK_BBNC_H

#include "block.h"

typedef struct {
    int capacity;
    int *heads, *tails;     /* capacity x F */
    double *table;          /* capacity x F x 2: log(1 - p), log p */
    char *has_parameter;    /* capacity: the table holds an explicit p */
    double *prior_table;    /* F x 2: the prior predictive logs */
    int aux_capacity;
    double *aux_table;      /* aux_capacity x F x 2 */
    double *gathered;       /* 2: sum of log p, of log(1 - p) over active */
    int n_gathered;         /* active groups gathered */
    int *row_j;             /* F: the observed features of the row scored */
    int *row_x;             /* F: their values 0 / 1 */
} bbnc_t;

#define BBNC(b) ((bbnc_t *)(b)->impl)

/* The default hyperprior's box (that of beta_bernoulli(),
 * prior_noninformative_beta()). */
#define BBNC_PRIOR_LOWER 0.01
#define BBNC_PRIOR_UPPER 1000.0

/* The row's observed cells into row_j / row_x; returns their number. */
int bbnc_gather_row(const block_t *b, int row);

/* log Beta(alpha, beta) density (the normaliser and both powers) of p
 * given as its two logs. */
double bbnc_log_beta_density(double log_p, double log_1mp, double alpha,
                             double beta);

#endif

/* The MCMC kernels a chain applies, in order, once per iteration. */
#ifndef MICROSCOPES_KERNELS_H
#define MICROSCOPES_KERNELS_H

#include "data.h"
#include "partition_prior.h"
#include "rng.h"
#include "state.h"

enum {
    KERNEL_ASSIGN = 0,
    KERNEL_SLICE_CLUSTER_HP = 1,
    KERNEL_SLICE_FEATURE_HP = 2,
    KERNEL_GRID_FEATURE_HP = 3,
    KERNEL_SPLIT_MERGE = 4,
    /* The assign kernel of a finite mixture (fixed_model_definition()):
     * the same code as KERNEL_ASSIGN under the chain's partition prior; a
     * kind of its own so that a configuration says which model it is for
     * (datamicroscopes' assign_fixed). */
    KERNEL_ASSIGN_FIXED = 5,
    /* Non-conjugate features (issue 14): Neal's (2000) algorithm 8 with
     * auxiliary groups (datamicroscopes' assign_resample), and the Gibbs
     * update of each group's explicit parameters (theta). */
    KERNEL_ASSIGN_RESAMPLE = 6,
    KERNEL_THETA = 7,
    N_KERNEL_KINDS = 8
};

/* Bounds on algorithm 8's auxiliary groups per row. */
#define ASSIGN_RESAMPLE_MAX_AUXILIARY 1000

/* Deliberately wrong variants of algorithm 8, for tests only: each
 * auxiliary weighted alpha instead of alpha / m, or a singleton's own
 * parameters not reused as the first auxiliary (all m drawn afresh). */
enum {
    RESAMPLE_TEST_EXACT = 0,
    RESAMPLE_TEST_FULL_ALPHA = 1,
    RESAMPLE_TEST_NO_REUSE = 2
};

/* How a split-merge kernel proposes a split (kernels_split_merge.c). */
enum {
    SPLIT_MERGE_SAMS = 0,
    SPLIT_MERGE_RESTRICTED_GIBBS = 1,
    SPLIT_MERGE_SEQUENTIAL_LAUNCH = 2
};

/* Bounds on a split-merge kernel's work per iteration: a chain stops only
 * between iterations, so an iteration must stay short enough for Ctrl-C to
 * be heard (a fuzzed `proposals = .Machine$integer.max` ran for hours). */
#define SPLIT_MERGE_MAX_PROPOSALS 1000000
#define SPLIT_MERGE_MAX_LAUNCH_SCANS 1000

enum {
    /* p(a, b) proportional to (a + b)^(-5/2) on [lower, upper]^2: the
     * datamicroscopes / Gelman et al. (BDA, 5.3) prior, on a bounded box
     * because on (0, inf)^2 it leaves the posterior of a feature that never
     * varies inside a group improper (mass piles up at a = b = 0). */
    PRIOR_NONINFORMATIVE_BETA = 0,
    /* Independent Gamma(shape, rate) on each hyperparameter. */
    PRIOR_GAMMA = 1
};

typedef struct {
    int kind;
    double shape, rate;     /* PRIOR_GAMMA */
    double lower, upper;    /* PRIOR_NONINFORMATIVE_BETA */
} prior_t;

typedef struct {
    int kind;
    int n_features;         /* features the kernel updates */
    int *features;          /* 0-based; owned */
    prior_t prior;
    double width;           /* slice width */
    int log_scale;          /* slice_feature_hp: bb's a and b sliced as
                             * log a, log b (scale = "log"); 0: "linear" */
    int n_grid;             /* grid kernel: points (a, b, log prior weight) */
    double *grid_a, *grid_b, *grid_log_weight;  /* owned */
    int n_proposals;        /* split-merge: proposals per iteration */
    int method;             /* split-merge: SPLIT_MERGE_* */
    int launch_scans;       /* split-merge, restricted Gibbs */
    int test_drop_proposal; /* tests only: 1 drops the q terms, 2 the pair's */
    int test_wrong_prior;   /* tests only, assign_fixed: PARTITION_TEST_* */
    int n_auxiliary;        /* assign_resample: m auxiliary groups */
    int test_wrong_auxiliary;   /* tests only, assign_resample: RESAMPLE_TEST_* */
    int threads;            /* slice_feature_hp: threads inside the chain
                             * (results do not depend on it); <= 1: one */
} kernel_t;

/* Split-merge proposals and acceptances of the current iteration. */
typedef struct {
    int split_proposed, split_accepted, merge_proposed, merge_accepted;
} split_merge_counts_t;

/* Scratch space a chain owns so that kernels never allocate per row. */
typedef struct {
    int *order;             /* n: the visiting order of rows */
    int *candidates;        /* n + 1 */
    double *log_weights;    /* n + 1, or n_grid for the grid kernel */
    double *weights;        /* same size */
    double *log_int;        /* log(0), log(1), ..., log(n) */
    int *heads_of_feature, *tails_of_feature;  /* n + 1: one feature's counts */
    double *log_join;       /* n + 1: a finite mixture's log(m + alpha/K) */
    double *aux_scores;     /* the largest n_auxiliary + 1 of the kernels */
    int size;               /* entries of log_weights, weights, candidates */
    /* Threads the assign kernel may use inside the chain (the chain's
     * inner_threads; <= 1: one). */
    int threads;
} workspace_t;

double prior_log_density(const prior_t *prior, double x);

/* Collapsed Gibbs over every row's group, rows in random order, with one
 * empty group offered each time (Neal 2000, algorithm 3) under the
 * partition prior (partition_prior.h): for a finite mixture the one empty
 * slot stands for all K - K+ empty labels, which are exchangeable, and is
 * not offered when every label is in use. */
int kernel_assign(state_t *st, const data_t *data, rng_t *rng,
                  workspace_t *ws, const partition_prior_t *prior);

/* The rows 0 .. n - 1 in a uniformly random order (Fisher-Yates). */
void shuffle_row_order(int *order, int n, rng_t *rng);

/* Whether a state has a block of a non-conjugate kind (explicit group
 * parameters), which the collapsed kernels cannot sample. */
int state_has_nonconjugate(const state_t *st);

/* Neal (2000), algorithm 8: every row's group, rows in random order, with
 * m = kernel->n_auxiliary auxiliary groups whose parameters are drawn from
 * the prior for the non-conjugate blocks (if the row is alone in its
 * group, that group's parameters are the first auxiliary); each auxiliary
 * weighs the partition prior's new-group weight over m. Conjugate blocks
 * score with their collapsed predictives (the prior predictive for an
 * auxiliary), so both kinds may sit in one model. */
int kernel_assign_resample(state_t *st, const kernel_t *kernel, rng_t *rng,
                           workspace_t *ws, const partition_prior_t *prior);

/* Every group's explicit parameters drawn from their conditional given the
 * group's rows (bbnc: Beta(alpha + heads, beta + tails), exact Gibbs). */
int kernel_theta(state_t *st, rng_t *rng);

/* Slice sampling of the concentration alpha (Neal 2003) given the
 * partition, under the CRP or the finite mixture's Dirichlet prior. */
int kernel_slice_cluster_hp(state_t *st, const kernel_t *kernel, rng_t *rng,
                            const partition_prior_t *prior);

/* Slice sampling of (a_d, b_d), one coordinate at a time, for each feature
 * of the kernel, each feature from its own stream derived from one draw of
 * `rng`, on kernel->threads threads (results do not depend on them);
 * rebuilds the predictive tables afterwards. */
int kernel_slice_feature_hp(state_t *st, const kernel_t *kernel, rng_t *rng,
                            workspace_t *ws);

/* A Gibbs step over a grid of (a, b) points for each feature. */
int kernel_grid_feature_hp(state_t *st, const kernel_t *kernel, rng_t *rng,
                           workspace_t *ws);

/* Metropolis-Hastings split-merge moves of whole groups: sequentially
 * allocated (Dahl 2003) or restricted Gibbs (Jain and Neal 2004)
 * proposals; adds its proposals and acceptances to `counts`. */
int kernel_split_merge(state_t *st, const data_t *data, const kernel_t *kernel,
                       rng_t *rng, workspace_t *ws,
                       const partition_prior_t *prior,
                       split_merge_counts_t *counts);

#endif

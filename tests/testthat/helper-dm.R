# Reference formulas of dirichlet_multinomial(k) in plain R (no code shared
# with src/block_dm.c), and the exact partition posterior of data sets
# whose columns may be matrix columns (vector-valued features), for
# test-model-dm.R.

# Log marginal of the rows of count matrix X (rows all NA are left out)
# in one group: sum_i log(m_i! / prod_l x_il!) + log B(alphas + c) -
# log B(alphas), B the multivariate beta function.
ref_dm_log_marginal <- function(X, alphas) {
  X <- X[!is.na(X[, 1]), , drop = FALSE]
  if (nrow(X) == 0L) return(0)
  c <- colSums(X)
  sum(lfactorial(rowSums(X))) - sum(lfactorial(X)) +
    lgamma(sum(alphas)) - lgamma(sum(alphas) + sum(c)) + sum(lgamma(alphas + c) - lgamma(alphas))
}

# log p(x | group of rows X): the ratio of two marginals.
ref_dm_log_predictive <- function(x, X, alphas) {
  ref_dm_log_marginal(rbind(X, x), alphas) - ref_dm_log_marginal(X, alphas)
}

# Expected proportions (alphas + c) / (A + C) given the group's rows X.
ref_dm_proportions <- function(X, alphas) {
  X <- X[!is.na(X[, 1]), , drop = FALSE]
  post <- alphas + colSums(X)
  post / sum(post)
}

# The rows `rows` of a column, a vector or a matrix column.
ref_rows <- function(x, rows) if (is.matrix(x)) x[rows, , drop = FALSE] else x[rows]

# Log marginal of a whole data set under a partition: dm features by
# ref_dm_log_marginal(), the others by ref_log_marginal() (helper-models.R).
ref_dm_mixed_log_ml <- function(columns, models, hps, assignment) {
  labels <- match(assignment, unique(assignment))
  total <- 0
  for (d in seq_along(models)) {
    for (g in unique(labels)) {
      x <- ref_rows(columns[[d]], labels == g)
      total <- total + if (models[[d]]$kind == "dm") {
        ref_dm_log_marginal(unclass(x), hps[[d]]$alphas)
      } else {
        ref_log_marginal(models[[d]], x, hps[[d]])
      }
    }
  }
  total
}

# The exact posterior over the set partitions of n <= 6 rows (CRP(alpha),
# fixed hyperparameters), as exact_partition_posterior_mixed(); `log_ml`
# may replace the likelihood (a deliberately wrong one for a test that
# must fail).
exact_partition_posterior_dm <- function(columns, models, hps, alpha,
                                         log_ml = ref_dm_mixed_log_ml) {
  n <- NROW(columns[[1]])
  stopifnot(n >= 1, n <= 6)
  z <- enum_partitions(n)
  log_crp <- apply(z, 1, enum_log_crp, alpha = alpha)
  ml <- apply(z, 1, function(zr) log_ml(columns, models, hps, zr))
  data.frame(key = apply(z, 1, enum_key), K = apply(z, 1, max), log_crp = log_crp,
             log_ml = ml, prob = enum_normalise(log_crp + ml), stringsAsFactors = FALSE)
}

# Partition keys of n_draws draws of n_chains chains of `data` under
# `kernels` (hyperparameters fixed at `hps`), each state audited against a
# recount (microscopes.check_state).
dm_partition_draws <- function(data, models, hps, kernels, n_chains = 4, n_draws = 1500,
                               alpha = 1) {
  partition_key_draws(model_definition(nrow(data), models), dataview(data), hps, kernels,
                      n_chains, n_draws, alpha)
}


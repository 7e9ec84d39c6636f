# Helpers for test-query.R: latent states built by hand from data and a
# partition, and brute-force posterior quantities by enumerating partitions.

# A valid "microscopes_state" (see the spec) for data Y (logical or 0/1, NA
# allowed), a partition `assignment` (positive group ids), concentration
# alpha and feature hyperparameters hps (D x 2: a, b; or a length-2 vector
# used for every feature). Heads and tails are counted from Y.
query_test_state <- function(Y, assignment, alpha = 1, hps = c(1, 1)) {
  Y <- as.matrix(Y)
  n <- nrow(Y)
  D <- ncol(Y)
  stopifnot(length(assignment) == n)
  hps <- if (is.matrix(hps)) hps else matrix(hps, D, 2, byrow = TRUE)
  colnames(hps) <- c("alpha", "beta")
  groups <- sort(unique(as.integer(assignment)))
  K <- length(groups)
  heads <- tails <- matrix(0L, K, D)
  for (k in seq_len(K)) {
    rows <- Y[assignment == groups[k], , drop = FALSE]
    heads[k, ] <- as.integer(colSums(rows == 1, na.rm = TRUE))
    tails[k, ] <- as.integer(colSums(rows == 0, na.rm = TRUE))
  }
  structure(list(
    n = n, D = D,
    assignments = as.integer(assignment),
    groups = groups,
    group_sizes = as.integer(tabulate(match(assignment, groups), K)),
    heads = heads,
    tails = tails,
    cluster_hp = list(alpha = alpha),
    feature_hps = hps,
    models = rep("beta_bernoulli", D)
  ), class = "microscopes_state")
}

# All set partitions of n rows, as restricted growth strings (1-based).
query_test_partitions <- function(n) {
  out <- list(1L)
  if (n == 1L) return(out)
  for (i in 2:n) {
    out <- unlist(lapply(out, function(z) {
      lapply(seq_len(max(z) + 1L), function(g) c(z, g))
    }), recursive = FALSE)
  }
  out
}

# log p(Y_obs | group) for the rows of one group: beta-Bernoulli marginal
# likelihood, NA entries left out, hps a D x 2 matrix.
query_test_log_ml_group <- function(rows, hps) {
  h <- colSums(rows == 1, na.rm = TRUE)
  t <- colSums(rows == 0, na.rm = TRUE)
  sum(lbeta(hps[, 1] + h, hps[, 2] + t) - lbeta(hps[, 1], hps[, 2]))
}

# log p(z) + log p(Y | z): CRP prior (Ewens formula) times the groups'
# marginal likelihoods.
query_test_log_joint <- function(Y, z, alpha, hps) {
  sizes <- tabulate(z)
  sizes <- sizes[sizes > 0]
  crp <- length(sizes) * log(alpha) + sum(lgamma(sizes)) +
    lgamma(alpha) - lgamma(alpha + nrow(Y))
  crp + sum(vapply(split(seq_len(nrow(Y)), z), function(r) {
    query_test_log_ml_group(Y[r, , drop = FALSE], hps)
  }, numeric(1)))
}

# p(new row = q | Y, z) by brute force: place the new row in each existing
# group or a new one (CRP weights) and take the ratio of marginal
# likelihoods with and without it. q may hold NA (left out).
query_test_log_pred_row <- function(Y, z, alpha, hps, q) {
  groups <- sort(unique(z))
  q <- matrix(q, 1)
  terms <- vapply(groups, function(g) {
    rows <- Y[z == g, , drop = FALSE]
    log(nrow(rows)) + query_test_log_ml_group(rbind(rows, q), hps) -
      query_test_log_ml_group(rows, hps)
  }, numeric(1))
  terms <- c(terms, log(alpha) + query_test_log_ml_group(q, hps))
  m <- max(terms)
  m + log(sum(exp(terms - m))) - log(nrow(Y) + alpha)
}

# P(q_d = 1 | q_observed, Y, z) for each entry of q (observed entries as
# given), from ratios of brute-force row predictives.
query_test_pred_given_partition <- function(Y, z, alpha, hps, q) {
  base <- query_test_log_pred_row(Y, z, alpha, hps, q)
  out <- as.double(q)
  for (d in which(is.na(q))) {
    q1 <- q
    q1[d] <- 1
    out[d] <- exp(query_test_log_pred_row(Y, z, alpha, hps, q1) - base)
  }
  out
}

# Posterior over all partitions of the rows of Y (fixed alpha and hps):
# list(partitions, prob, states).
query_test_posterior <- function(Y, alpha, hps) {
  D <- ncol(Y)
  hps <- if (is.matrix(hps)) hps else matrix(hps, D, 2, byrow = TRUE)
  parts <- query_test_partitions(nrow(Y))
  lj <- vapply(parts, query_test_log_joint, numeric(1), Y = Y,
               alpha = alpha, hps = hps)
  prob <- exp(lj - max(lj))
  prob <- prob / sum(prob)
  states <- lapply(parts, query_test_state, Y = Y, alpha = alpha, hps = hps)
  list(partitions = parts, prob = prob, states = states, hps = hps)
}

# Two well-separated kinds of rows: ink in the first or second half.
query_test_separated <- function(n_per = 10, D = 12, p = 0.95, seed = 1) {
  withr::with_seed(seed, {
    half <- rep(c(TRUE, FALSE), each = D / 2)
    a <- matrix(runif(n_per * D) < ifelse(half, p, 1 - p), n_per, D,
                byrow = TRUE)
    b <- matrix(runif(n_per * D) < ifelse(half, 1 - p, p), n_per, D,
                byrow = TRUE)
    rbind(a, b)
  })
}

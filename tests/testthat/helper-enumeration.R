# Exact posterior quantities of the model by brute force, for the
# correctness tests (test-correctness.R). Everything here is written from
# the model's definition with lgamma() and lbeta() alone, independently of
# the package's C code, so that a wrong kernel or a wrong score cannot agree
# with it by sharing a bug.
#
# Model: partition z ~ CRP(alpha); for group k and feature d,
# p_kd ~ Beta(a_d, b_d) and x_id ~ Bernoulli(p_kd); NA entries are left out
# of the likelihood.

# All set partitions of n rows (n <= 7 or so: Bell(6) = 203, Bell(7) = 877),
# as a B x n integer matrix of restricted growth strings: row 1 is in group
# 1, and each later row is in a group already used or in the next new one.
enum_partitions <- function(n) {
  stopifnot(n >= 1, n <= 8)
  z <- matrix(1L, 1, 1)
  for (i in seq_len(n - 1L) + 1L) {
    z <- do.call(rbind, lapply(seq_len(nrow(z)), function(r) {
      prefix <- z[r, ]
      new <- seq_len(max(prefix) + 1L)
      cbind(matrix(prefix, length(new), length(prefix), byrow = TRUE), new)
    }))
  }
  dimnames(z) <- NULL
  z
}

# The canonical key of a partition: labels renumbered 1, 2, ... in order of
# first appearance, pasted. Two labelings of one partition share a key, and
# a restricted growth string is its own canonical form.
enum_key <- function(assignment) {
  paste(match(assignment, unique(assignment)), collapse = "")
}

# log CRP(z | alpha) = K log(alpha) + lgamma(alpha) - lgamma(alpha + n)
#                      + sum_k lgamma(n_k).
enum_log_crp <- function(assignment, alpha) {
  sizes <- tabulate(match(assignment, unique(assignment)))
  n <- length(assignment)
  length(sizes) * log(alpha) + lgamma(alpha) - lgamma(alpha + n) + sum(lgamma(sizes))
}

# Observed ones (heads) and zeros (tails) per group (rows, in order of first
# appearance) and feature (columns); NA entries counted in neither.
enum_counts <- function(Y, assignment) {
  labels <- match(assignment, unique(assignment))
  Y <- matrix(as.numeric(Y), nrow(Y), ncol(Y))
  list(heads = rowsum(1 * (!is.na(Y) & Y == 1), labels, reorder = TRUE),
       tails = rowsum(1 * (!is.na(Y) & Y == 0), labels, reorder = TRUE))
}

# log p(x_d | z, a, b) of one feature from its per-group counts h, t:
# sum_k [lbeta(a + h_k, b + t_k) - lbeta(a, b)]; a group with no observed
# entry contributes lbeta(a, b) - lbeta(a, b) = 0. Vectorised over a and b
# (equal lengths), returning one value per (a, b) point.
enum_log_ml_feature <- function(h, t, a, b) {
  out <- numeric(length(a))
  for (k in seq_along(h)) {
    if (h[k] + t[k] > 0) out <- out + lbeta(a + h[k], b + t[k]) - lbeta(a, b)
  }
  out
}

# log p(Y | z, hps) with hps a D x 2 matrix of (a, b) by feature.
enum_log_ml <- function(Y, assignment, hps) {
  counts <- enum_counts(Y, assignment)
  sum(vapply(seq_len(ncol(Y)), function(d) {
    enum_log_ml_feature(counts$heads[, d], counts$tails[, d], hps[d, 1], hps[d, 2])
  }, numeric(1)))
}

# Normalise log weights into probabilities.
enum_normalise <- function(log_w) {
  w <- exp(log_w - max(log_w))
  w / sum(w)
}

# The exact posterior over partitions given alpha and fixed hps: a data
# frame with one row per partition (key, number of groups K, log_crp,
# log_ml, prob), in restricted-growth order.
enum_partition_posterior <- function(Y, alpha, hps) {
  z <- enum_partitions(nrow(Y))
  log_crp <- apply(z, 1, enum_log_crp, alpha = alpha)
  log_ml <- apply(z, 1, enum_log_ml, Y = Y, hps = hps)
  data.frame(key = apply(z, 1, enum_key), K = apply(z, 1, max),
             log_crp = log_crp, log_ml = log_ml,
             prob = enum_normalise(log_crp + log_ml), stringsAsFactors = FALSE)
}

# log p(x_d | z, a, b) of feature d for every partition and every point of
# a grid of (a, b). Partitions with the same multiset of per-group counts
# share one row of `values` (U x G, U distinct multisets, G points), which
# keeps fine 2-D grids cheap; `index` gives each partition's row.
enum_log_ml_feature_grid <- function(Y, d, a, b) {
  z <- enum_partitions(nrow(Y))
  signature <- apply(z, 1, function(zr) {
    counts <- enum_counts(Y[, d, drop = FALSE], zr)
    observed <- counts$heads[, 1] + counts$tails[, 1] > 0
    ht <- paste(counts$heads[observed, 1], counts$tails[observed, 1], sep = ":")
    paste(sort(ht), collapse = ",")
  })
  unique_sig <- unique(signature)
  values <- t(vapply(unique_sig, function(sig) {
    if (sig == "") return(numeric(length(a)))
    ht <- do.call(rbind, strsplit(strsplit(sig, ",")[[1]], ":"))
    enum_log_ml_feature(as.numeric(ht[, 1]), as.numeric(ht[, 2]), a, b)
  }, numeric(length(a))))
  list(values = matrix(values, length(unique_sig)), index = match(signature, unique_sig))
}

# log(sum(exp(x))) of each row of a matrix, stably.
enum_row_logsumexp <- function(x) {
  m <- apply(x, 1, max)
  m + log(rowSums(exp(x - m)))
}

# A quadrature grid over (a, b) in [lower, upper]^2, evenly spaced in
# log(a) and log(b) (so that it is fine near a small lower bound), with
# trapezoid weights in log space (da db = a b dlog(a) dlog(b)). Returns
# list(a, b, log_w, u): points, log quadrature weights (flattened, a
# varying fastest) and the 1-D grid u of log values.
enum_log_grid <- function(lower, upper, m) {
  u <- seq(log(lower), log(upper), length.out = m)
  step <- diff(u)[1]
  w1 <- rep(step, m)
  w1[c(1, m)] <- step / 2
  g <- expand.grid(i = seq_len(m), j = seq_len(m))
  a <- exp(u[g$i])
  b <- exp(u[g$j])
  list(a = a, b = b, log_w = log(w1[g$i]) + log(w1[g$j]) + log(a) + log(b), u = u)
}

# The joint posterior of the partition and of the beta hyperparameters of
# the features in `updated`, when a sampler updates those (each with the
# same prior, log density log_prior(a, b), vectorised) and keeps the other
# features at `hps` (D x 2), with alpha fixed:
#   p(z, h | Y) = CRP(z) prod_{d in updated} prior(h_d) p(x_d | z, h_d)
#                        prod_{d fixed} p(x_d | z, hps_d).
# Integrals over h_d use the points and log weights of `grid` (a quadrature
# grid from enum_log_grid(), or a discrete grid of (a, b) values with log
# prior weights, for the grid kernel, and log_prior = 0). Returns
# list(partition = posterior probability of each partition of
# enum_partitions(), feature = list with, for each d in `updated` (named
# by d), the posterior mass of each grid point).
enum_hp_posterior <- function(Y, alpha, hps, updated, grid, log_prior) {
  z <- enum_partitions(nrow(Y))
  log_post_z <- apply(z, 1, enum_log_crp, alpha = alpha)
  log_prior_grid <- log_prior(grid$a, grid$b) + grid$log_w
  ll <- list()
  evidence <- list()
  for (d in seq_len(ncol(Y))) {
    if (d %in% updated) {
      ll[[d]] <- enum_log_ml_feature_grid(Y, d, grid$a, grid$b)
      shifted <- sweep(ll[[d]]$values, 2, log_prior_grid, `+`)
      evidence[[d]] <- enum_row_logsumexp(shifted)[ll[[d]]$index]
      log_post_z <- log_post_z + evidence[[d]]
    } else {
      log_post_z <- log_post_z + apply(z, 1, function(zr) {
        counts <- enum_counts(Y[, d, drop = FALSE], zr)
        enum_log_ml_feature(counts$heads[, 1], counts$tails[, 1], hps[d, 1], hps[d, 2])
      })
    }
  }
  feature <- list()
  for (d in updated) {
    # Weight of each distinct count multiset once h_d is put back in.
    log_rest <- log_post_z - evidence[[d]]
    w <- tapply(exp(log_rest - max(log_rest)), ll[[d]]$index, sum)
    u_rows <- as.integer(names(w))
    joint <- sweep(ll[[d]]$values[u_rows, , drop = FALSE], 2, log_prior_grid, `+`)
    joint <- joint + log(as.numeric(w))
    mass <- colSums(exp(joint - max(joint)))
    feature[[as.character(d)]] <- mass / sum(mass)
  }
  list(partition = enum_normalise(log_post_z), feature = feature)
}

# Marginal summaries of one hyperparameter from the masses of
# enum_hp_posterior() on a quadrature grid from enum_log_grid(): `value` is
# grid$a or grid$b, `mass` the masses. enum_hp_mean() gives the posterior
# mean of f(value). enum_hp_cdf() gives the posterior CDF at any points
# (the marginal density of log(value) at the nodes, integrated by the
# trapezoid rule and interpolated linearly in log(value) between nodes);
# enum_hp_quantile() inverts it.
enum_hp_mean <- function(value, mass, f = identity) sum(f(value) * mass)
enum_hp_node_cdf <- function(value, mass, grid) {
  u <- grid$u
  step <- diff(u)[1]
  w1 <- rep(step, length(u))
  w1[c(1, length(u))] <- step / 2
  node_mass <- as.numeric(tapply(mass, match(value, exp(u)), sum))
  f <- node_mass / w1
  cdf <- c(0, cumsum(step * (f[-1] + f[-length(f)]) / 2))
  cdf / cdf[length(cdf)]
}
enum_hp_cdf <- function(value, mass, grid, at) {
  stats::approx(grid$u, enum_hp_node_cdf(value, mass, grid), xout = log(at), rule = 2)$y
}
enum_hp_quantile <- function(value, mass, grid, q) {
  cdf <- enum_hp_node_cdf(value, mass, grid)
  keep <- !duplicated(cdf)
  exp(stats::approx(cdf[keep], grid$u[keep], xout = q)$y)
}

# Exact posterior of the CRP concentration alpha with fixed feature
# hyperparameters hps and a prior of log density log_prior(alpha):
# p(alpha | Y) is proportional to prior(alpha) sum_z CRP(z | alpha) p(Y | z).
# Since CRP(z | alpha) = alpha^K Gamma(alpha) / Gamma(alpha + n)
# prod_k Gamma(n_k) and p(Y | z) does not depend on alpha, the sum collapses
# to sum_K alpha^K Gamma(alpha) / Gamma(alpha + n) C_K, with
# C_K = sum over partitions with K groups of prod_k Gamma(n_k) p(Y | z).
# Returns the normalised density (a vectorised function of alpha, the
# normalising constant from integrate()), with attribute "p_k": the
# posterior probability P(K = k | Y) of each number of groups k = 1..n,
# alpha integrated out.
enum_alpha_posterior <- function(Y, hps, log_prior) {
  z <- enum_partitions(nrow(Y))
  n <- nrow(Y)
  K <- apply(z, 1, max)
  rest <- apply(z, 1, function(zr) sum(lgamma(tabulate(zr)))) +
    apply(z, 1, enum_log_ml, Y = Y, hps = hps)
  log_c <- tapply(rest, K, function(x) max(x) + log(sum(exp(x - max(x)))))
  Ks <- as.numeric(names(log_c))
  shift <- max(log_c)
  # Unnormalised p(alpha, K = k | Y), vectorised over alpha.
  term <- function(alpha, k) {
    out <- numeric(length(alpha))
    ok <- alpha > 0
    al <- alpha[ok]
    out[ok] <- exp(log_c[[k]] - shift + Ks[k] * log(al) + lgamma(al) - lgamma(al + n) +
                     log_prior(al))
    out
  }
  mass_k <- vapply(seq_along(Ks), function(k) {
    stats::integrate(term, 0, Inf, k = k, rel.tol = 1e-10)$value
  }, numeric(1))
  total <- sum(mass_k)
  density <- function(alpha) {
    Reduce(`+`, lapply(seq_along(Ks), function(k) term(alpha, k))) / total
  }
  p_k <- numeric(n)
  p_k[Ks] <- mass_k / total
  attr(density, "p_k") <- p_k
  density
}

# Quantile of a density on (0, Inf) by integrate() and uniroot().
enum_quantile <- function(density, q, upper = 50) {
  cdf <- function(x) stats::integrate(density, 0, x, rel.tol = 1e-10)$value
  stats::uniroot(function(x) cdf(x) - q, c(1e-8, upper), tol = 1e-10)$root
}

# Pearson chi-square goodness of fit of observed counts to probabilities,
# pooling the cells whose expected count is below `min_expected` into one
# cell. MCMC draws are autocorrelated, which inflates the statistic by
# about the integrated autocorrelation time of the cell indicators; it is
# divided by `inflation` (from enum_inflation()). Returns list(statistic,
# df, p_value, cells).
enum_chisq <- function(observed, prob, min_expected = 5, inflation = 1) {
  stopifnot(length(observed) == length(prob))
  N <- sum(observed)
  expected <- N * prob
  small <- expected < min_expected
  if (sum(small) > 0) {
    observed <- c(observed[!small], sum(observed[small]))
    expected <- c(expected[!small], sum(expected[small]))
    # A pooled cell that is still tiny joins the smallest remaining cell.
    if (expected[length(expected)] < min_expected && length(expected) > 2) {
      j <- which.min(expected[-length(expected)])
      observed[j] <- observed[j] + observed[length(observed)]
      expected[j] <- expected[j] + expected[length(expected)]
      observed <- observed[-length(observed)]
      expected <- expected[-length(expected)]
    }
  }
  statistic <- sum((observed - expected)^2 / expected) / inflation
  df <- length(expected) - 1L
  list(statistic = statistic, df = df,
       p_value = stats::pchisq(statistic, df, lower.tail = FALSE),
       cells = length(expected))
}

# The average integrated autocorrelation time (draws per effective draw)
# of the indicators "the draw is in cell c", over the `top` most probable
# cells with at least `min_expected` expected draws, and at least 1: under
# autocorrelation the Pearson statistic has mean about
# sum_c (1 - p_c) tau_c instead of the number of cells - 1, so dividing it
# by the average tau restores its chi-square calibration. `cells` is a
# [draw, chain] matrix of cell labels, `labels` and `prob` the cells and
# their probabilities. The chains are put end to end for coda's spectral
# estimate (a chain that never visits a cell would otherwise count for no
# effective draws). Needs coda (else returns `fallback`).
enum_inflation <- function(cells, labels, prob, top = 10, min_expected = 200,
                           fallback = 2) {
  if (!requireNamespace("coda", quietly = TRUE)) return(fallback)
  cells <- as.vector(as.matrix(cells))
  keep <- order(-prob)[seq_len(min(top, length(labels)))]
  keep <- keep[prob[keep] * length(cells) >= min_expected]
  taus <- vapply(labels[keep], function(lab) {
    x <- 1 * (cells == lab)
    if (stats::var(x) == 0) return(1)
    length(x) / coda::effectiveSize(x)
  }, numeric(1))
  max(1, mean(taus))
}

# Total variation distance between two probability vectors.
enum_tv <- function(p, q) sum(abs(p - q)) / 2

# Monte Carlo standard error of the mean of an autocorrelated series: `x`
# is a vector (one chain) or a matrix with one column per chain. Uses
# coda's spectral effective sample size (summed over chains) when coda is
# installed, batch means (20 batches per chain) otherwise.
enum_mcse <- function(x) {
  x <- as.matrix(x)
  x <- x * 1
  if (stats::var(as.vector(x)) == 0) return(0)
  # With independent chains, the spread of their means is an honest
  # standard error even when a heavy tail makes each chain sticky and the
  # within-chain (spectral) estimate optimistic; the larger of the two is
  # used.
  between <- if (ncol(x) >= 5) stats::sd(colMeans(x)) / sqrt(ncol(x)) else 0
  if (requireNamespace("coda", quietly = TRUE)) {
    chains <- coda::mcmc.list(lapply(seq_len(ncol(x)), function(j) coda::mcmc(x[, j])))
    ess <- sum(coda::effectiveSize(chains))
    return(max(sqrt(stats::var(as.vector(x)) / ess), between))
  }
  n_batches <- 20
  size <- floor(nrow(x) / n_batches)
  means <- apply(x, 2, function(xj) colMeans(matrix(xj[seq_len(n_batches * size)], size)))
  # Each batch mean has variance sigma^2 / size, sigma^2 the asymptotic
  # variance; the mean of all draws then has variance sigma^2 / length(x).
  max(sqrt(stats::var(as.vector(means)) * size / length(x)), between)
}

# The finite mixture (fixed_model_definition()): weights
# w ~ Dirichlet(alpha/K, ..., alpha/K) integrated out. The probability of
# an unlabelled partition z with K+ <= K groups of sizes n_k is
#   K!/(K - K+)! Gamma(alpha)/Gamma(alpha + n) prod_k Gamma(n_k + alpha/K)/Gamma(alpha/K)
# (the K!/(K - K+)! labellings of z, each of Dirichlet-multinomial
# probability), and 0 when K+ > K. Written from the definition, apart from
# the package's partition_prior.c.
enum_log_finite <- function(assignment, alpha, K) {
  sizes <- tabulate(match(assignment, unique(assignment)))
  K_plus <- length(sizes)
  if (K_plus > K) return(-Inf)
  lfactorial(K) - lfactorial(K - K_plus) + lgamma(alpha) - lgamma(alpha + length(assignment)) +
    sum(lgamma(sizes + alpha / K) - lgamma(alpha / K))
}

# The exact posterior of the finite mixture over the partitions with at most
# K groups (fixed alpha and hps), as enum_partition_posterior() gives it for
# the CRP: a data frame with key, K (groups), log_prior, log_ml, prob.
enum_finite_posterior <- function(Y, alpha, hps, K) {
  z <- enum_partitions(nrow(Y))
  z <- z[apply(z, 1, max) <= K, , drop = FALSE]
  log_prior <- apply(z, 1, enum_log_finite, alpha = alpha, K = K)
  log_ml <- apply(z, 1, enum_log_ml, Y = Y, hps = hps)
  data.frame(key = apply(z, 1, enum_key), K = apply(z, 1, max),
             log_prior = log_prior, log_ml = log_ml,
             prob = enum_normalise(log_prior + log_ml), stringsAsFactors = FALSE)
}

# Exact posterior of the finite mixture's alpha (fixed hps, prior of log
# density log_prior(alpha)): prior(alpha) sum_z p(z | alpha, K) p(Y | z),
# normalised by integrate(). Returns the density (vectorised in alpha) with
# attribute "p_k", P(K+ = k | Y) for k = 1..K, alpha integrated out.
enum_finite_alpha_posterior <- function(Y, hps, K, log_prior) {
  z <- enum_partitions(nrow(Y))
  z <- z[apply(z, 1, max) <= K, , drop = FALSE]
  n <- nrow(Y)
  sizes <- lapply(seq_len(nrow(z)), function(r) tabulate(z[r, ]))
  K_plus <- apply(z, 1, max)
  rest <- lfactorial(K) - lfactorial(K - K_plus) + apply(z, 1, enum_log_ml, Y = Y, hps = hps)
  log_term <- function(alpha, r) {
    rest[r] + lgamma(alpha) - lgamma(alpha + n) +
      vapply(alpha, function(a) sum(lgamma(sizes[[r]] + a / K) - lgamma(a / K)), numeric(1)) +
      log_prior(alpha)
  }
  shift <- max(vapply(seq_len(nrow(z)), function(r) log_term(1, r), numeric(1)))
  unnorm <- function(alpha, keep = rep(TRUE, nrow(z))) {
    out <- numeric(length(alpha))
    ok <- alpha > 0
    for (r in which(keep)) out[ok] <- out[ok] + exp(log_term(alpha[ok], r) - shift)
    out
  }
  total <- stats::integrate(unnorm, 0, Inf, rel.tol = 1e-10)$value
  density <- function(alpha) unnorm(alpha) / total
  attr(density, "p_k") <- vapply(seq_len(K), function(k) {
    if (!any(K_plus == k)) return(0)
    stats::integrate(unnorm, 0, Inf, keep = K_plus == k, rel.tol = 1e-10)$value / total
  }, numeric(1))
  density
}

# Partition keys (draw x chain) of `n_chains` chains of `defn` on `view`
# under `kernels`, hyperparameters fixed at `hps` (feature_hps =) and
# concentration `alpha`: 20 iterations, then one key per iteration, every
# state audited against a recount (microscopes.check_state). `prepare`
# may alter each runner before it runs (the tests' deliberately wrong
# kernels) and returns it.
partition_key_draws <- function(defn, view, hps, kernels, n_chains = 4, n_draws = 1500,
                                alpha = 1, prepare = identity) {
  withr::local_options(microscopes.check_state = TRUE, microscopes.progress = FALSE)
  runners <- lapply(seq_len(n_chains), function(j) {
    prepare(runner(defn, view, initialize_state(defn, view, cluster_hp = list(alpha = alpha),
                                                feature_hps = hps), kernels))
  })
  pr <- parallel_runner(runners, threads = 1)
  run(pr, 20)
  keys <- matrix(NA_character_, n_draws, n_chains)
  for (t in seq_len(n_draws)) {
    run(pr, 1)
    keys[t, ] <- vapply(get_latents(pr), function(s) enum_key(assignments(s)), character(1))
  }
  keys
}

# Chi-square of partition keys against an enumerated posterior (a data
# frame with `key` and `prob`), inflated for the draws' autocorrelation.
keys_chisq <- function(keys, exact) {
  observed <- as.numeric(table(factor(keys, levels = exact$key)))
  stopifnot(sum(observed) == length(keys))
  enum_chisq(observed, exact$prob, inflation = enum_inflation(keys, exact$key, exact$prob))
}

# Reference math for the likelihood models (R/model.R, ?models), written
# from first principles with lgamma(), lbeta() and lchoose() alone,
# independently of the package's C code, so that a block's score, a
# query's predictive or score_data() cannot agree with it by sharing a
# bug. Every function takes the observed values of one feature in one
# group (`x`, NA dropped here) and the feature's hyperparameters as a named
# list with the datamicroscopes names (`hp`); `parameters` holds the fixed
# k (dd) or r (bnb).
#
# Each model has
#   ref_log_marginal(kind, x, hp, parameters): log p(x_1, ..., x_m),
#     the prior on the group parameter integrated out (0 for m = 0);
#   ref_log_predictive(kind, x_new, x, hp, parameters):
#     log p(x_new | x), vectorised over x_new;
#   ref_predictive_mean(kind, x, hp, parameters): E[x_new | x] (for dd,
#     the vector of level probabilities; for bb, P(x_new = 1)).

# beta-Bernoulli: p ~ Beta(alpha, beta), x ~ Bernoulli(p).
ref_bb_log_marginal <- function(x, hp) {
  h <- sum(x == 1); t <- sum(x == 0)
  lbeta(hp$alpha + h, hp$beta + t) - lbeta(hp$alpha, hp$beta)
}
ref_bb_log_predictive <- function(x_new, x, hp) {
  h <- sum(x == 1); m <- length(x)
  p1 <- (hp$alpha + h) / (hp$alpha + hp$beta + m)
  log(ifelse(x_new == 1, p1, 1 - p1))
}
ref_bb_predictive_mean <- function(x, hp) {
  (hp$alpha + sum(x == 1)) / (hp$alpha + hp$beta + length(x))
}

# Dirichlet-categorical: theta ~ Dirichlet(alphas), x ~ Categorical(theta),
# levels 1..k. p(x) = Gamma(A) / Gamma(A + m) prod_j Gamma(a_j + c_j) /
# Gamma(a_j) with A = sum_j a_j and c_j the count of level j.
ref_dd_counts <- function(x, k) tabulate(as.integer(x), nbins = k)
ref_dd_log_marginal <- function(x, hp, k) {
  a <- hp$alphas; c <- ref_dd_counts(x, k)
  lgamma(sum(a)) - lgamma(sum(a) + length(x)) + sum(lgamma(a + c) - lgamma(a))
}
ref_dd_log_predictive <- function(x_new, x, hp, k) {
  a <- hp$alphas; c <- ref_dd_counts(x, k)
  log((a[as.integer(x_new)] + c[as.integer(x_new)]) / (sum(a) + length(x)))
}
ref_dd_predictive_mean <- function(x, hp, k) {
  a <- hp$alphas; c <- ref_dd_counts(x, k)
  (a + c) / (sum(a) + length(x))
}

# Gamma-Poisson: lambda ~ Gamma(shape alpha, scale inv_beta), x ~
# Poisson(lambda). With rate b = 1 / inv_beta and S = sum(x):
# p(x) = prod(1 / x_i!) b^alpha / Gamma(alpha) Gamma(alpha + S) /
# (b + m)^(alpha + S). The predictive is the ratio of two such marginals.
ref_gp_log_marginal <- function(x, hp) {
  a <- hp$alpha; b <- 1 / hp$inv_beta; S <- sum(x); m <- length(x)
  -sum(lgamma(x + 1)) + a * log(b) - lgamma(a) + lgamma(a + S) - (a + S) * log(b + m)
}
ref_gp_log_predictive <- function(x_new, x, hp) {
  a <- hp$alpha + sum(x); b <- 1 / hp$inv_beta + length(x)
  # negative binomial: Gamma(a + y) / (Gamma(a) y!) (b / (b + 1))^a (1 / (b + 1))^y
  lgamma(a + x_new) - lgamma(a) - lgamma(x_new + 1) + a * log(b / (b + 1)) - x_new * log(b + 1)
}
ref_gp_predictive_mean <- function(x, hp) {
  (hp$alpha + sum(x)) / (1 / hp$inv_beta + length(x))
}

# Beta-negative binomial: p ~ Beta(alpha, beta), x ~ NegBin(r, p) counting
# failures before the r-th success, P(x | p) = choose(x + r - 1, x) p^r
# (1 - p)^x. p(x) = prod choose(x_i + r - 1, x_i) B(alpha + m r, beta + S)
# / B(alpha, beta).
ref_bnb_log_marginal <- function(x, hp, r) {
  sum(lchoose(x + r - 1, x)) + lbeta(hp$alpha + length(x) * r, hp$beta + sum(x)) -
    lbeta(hp$alpha, hp$beta)
}
ref_bnb_log_predictive <- function(x_new, x, hp, r) {
  a <- hp$alpha + length(x) * r; b <- hp$beta + sum(x)
  lchoose(x_new + r - 1, x_new) + lbeta(a + r, b + x_new) - lbeta(a, b)
}
ref_bnb_predictive_mean <- function(x, hp, r) {
  # E[r (1 - p) / p] under p ~ Beta(a, b) = r b / (a - 1), infinite for a <= 1.
  a <- hp$alpha + length(x) * r; b <- hp$beta + sum(x)
  if (a <= 1) Inf else r * b / (a - 1)
}

# Normal-inverse-chi-squared (Gelman et al. BDA3 section 3.3; Murphy 2007
# section 5): sigma2 ~ Scaled-Inv-chi2(nu, sigmasq), mu_g | sigma2 ~
# N(mu, sigma2 / kappa), x ~ N(mu_g, sigma2).
ref_nich_posterior <- function(x, hp) {
  m <- length(x)
  xbar <- if (m > 0) mean(x) else 0
  ss <- sum((x - xbar)^2)
  kappa_m <- hp$kappa + m
  nu_m <- hp$nu + m
  mu_m <- (hp$kappa * hp$mu + m * xbar) / kappa_m
  sigmasq_m <- (hp$nu * hp$sigmasq + ss + hp$kappa * m / kappa_m * (xbar - hp$mu)^2) / nu_m
  list(mu = mu_m, kappa = kappa_m, sigmasq = sigmasq_m, nu = nu_m)
}
ref_nich_log_marginal <- function(x, hp) {
  post <- ref_nich_posterior(x, hp)
  m <- length(x)
  lgamma(post$nu / 2) - lgamma(hp$nu / 2) + 0.5 * log(hp$kappa / post$kappa) +
    hp$nu / 2 * log(hp$nu * hp$sigmasq) - post$nu / 2 * log(post$nu * post$sigmasq) -
    m / 2 * log(pi)
}
ref_nich_log_predictive <- function(x_new, x, hp) {
  # Student t: nu_m degrees of freedom, location mu_m, squared scale
  # sigmasq_m (1 + kappa_m) / kappa_m.
  post <- ref_nich_posterior(x, hp)
  scale <- sqrt(post$sigmasq * (1 + post$kappa) / post$kappa)
  stats::dt((x_new - post$mu) / scale, df = post$nu, log = TRUE) - log(scale)
}
ref_nich_predictive_mean <- function(x, hp) ref_nich_posterior(x, hp)$mu

# Dispatch on the model's kind; a model object from R/model.R or a kind
# string ("bb", ...) with `parameters`.
ref_kind <- function(model) if (is.character(model)) model else model$kind
ref_parameters <- function(model, parameters) {
  if (is.character(model)) parameters else model$parameters
}
# The observed values of a column as the reference formulas read them:
# factor codes 1..k (dd), a two-level factor's second level as 1 (bb, as
# pack_blocks() does), logical as 0/1.
ref_observed <- function(x, kind) {
  if (is.factor(x)) x <- as.integer(x) - (kind == "bb")
  if (is.logical(x)) x <- as.integer(x)
  x[!is.na(x)]
}

ref_log_marginal <- function(model, x, hp, parameters = list()) {
  x <- ref_observed(x, ref_kind(model)); p <- ref_parameters(model, parameters)
  if (length(x) == 0L) return(0)
  switch(ref_kind(model),
    bb = ref_bb_log_marginal(x, hp),
    dd = ref_dd_log_marginal(x, hp, p$k),
    gp = ref_gp_log_marginal(x, hp),
    bnb = ref_bnb_log_marginal(x, hp, p$r),
    nich = ref_nich_log_marginal(x, hp))
}

ref_log_predictive <- function(model, x_new, x, hp, parameters = list()) {
  x <- ref_observed(x, ref_kind(model)); p <- ref_parameters(model, parameters)
  switch(ref_kind(model),
    bb = ref_bb_log_predictive(x_new, x, hp),
    dd = ref_dd_log_predictive(x_new, x, hp, p$k),
    gp = ref_gp_log_predictive(x_new, x, hp),
    bnb = ref_bnb_log_predictive(x_new, x, hp, p$r),
    nich = ref_nich_log_predictive(x_new, x, hp))
}

ref_predictive_mean <- function(model, x, hp, parameters = list()) {
  x <- ref_observed(x, ref_kind(model)); p <- ref_parameters(model, parameters)
  switch(ref_kind(model),
    bb = ref_bb_predictive_mean(x, hp),
    dd = ref_dd_predictive_mean(x, hp, p$k),
    gp = ref_gp_predictive_mean(x, hp),
    bnb = ref_bnb_predictive_mean(x, hp, p$r),
    nich = ref_nich_predictive_mean(x, hp))
}

# log p(columns | partition z, hps): the sum over features and groups of
# the group's log marginal. `columns` is a data frame or a list of D
# columns of length n (factors or integers 1..k for dd; logical, 0/1 or a
# two-level factor for bb), `models` a list of D model objects, `hps` a
# list of D named lists.
ref_mixed_log_ml <- function(columns, models, hps, assignment) {
  labels <- match(assignment, unique(assignment))
  total <- 0
  for (d in seq_along(models)) {
    x <- columns[[d]]
    for (g in unique(labels)) {
      total <- total + ref_log_marginal(models[[d]], x[labels == g], hps[[d]])
    }
  }
  total
}

# The exact posterior over all set partitions of the n <= 6 rows of a
# mixed data set, with CRP(alpha) prior and fixed hyperparameters: a data
# frame with one row per partition (key, K, log_crp, log_ml, prob) in
# restricted-growth order, as enum_partition_posterior() of
# helper-enumeration.R gives for binary data (and equal to it for
# beta_bernoulli() columns).
exact_partition_posterior_mixed <- function(columns, models, hps, alpha) {
  n <- length(columns[[1]])
  stopifnot(n >= 1, n <= 6, length(models) == length(columns), length(hps) == length(columns),
            all(lengths(columns) == n))
  z <- enum_partitions(n)
  log_crp <- apply(z, 1, enum_log_crp, alpha = alpha)
  log_ml <- apply(z, 1, function(zr) ref_mixed_log_ml(columns, models, hps, zr))
  data.frame(key = apply(z, 1, enum_key), K = apply(z, 1, max),
             log_crp = log_crp, log_ml = log_ml,
             prob = enum_normalise(log_crp + log_ml), stringsAsFactors = FALSE)
}

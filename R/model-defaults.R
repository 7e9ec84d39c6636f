# Default initial hyperparameters of each likelihood model, set from the
# observed values of the feature's column (DECISIONS.md: "Default
# hyperparameters of real-valued and count models are set from the column's
# location and scale, so that results do not depend on units"). Internal: the
# constructors and initialize_state() call default_feature_hp() for every
# feature whose hyperparameters the user did not give.
#
# The C blocks (src/block_*.c) centre their default hyperpriors (the slice
# kernel's priors, documented in ?models) on the same location and scale,
# computed the same way (src/block_util.c, block_column_location_scale()):
# the mean and the population standard deviation of the observed cells, with
# the fallbacks below, so that an initial value sits where its prior puts its
# median.

# Location (mean) and scale (population sd) of a column's observed values.
# No observed value gives (0, 1); a zero spread gives the scale |mean|, or 1
# when the mean is 0 too (a constant column still has a scale, so that
# sigmasq > 0).
column_location_scale <- function(column) {
  x <- as.double(unclass(column))
  x <- x[!is.na(x)]
  if (length(x) == 0L) return(c(location = 0, scale = 1))
  m <- mean(x)
  s <- sqrt(mean((x - m)^2))
  if (!(s > 0)) s <- if (m != 0) abs(m) else 1
  c(location = m, scale = s)
}

# default_feature_hp(model, column): the named list of initial
# hyperparameters (names = model$hp_names) for `model` (a
# "microscopes_model", CONTRACT.md) on `column` (the column as stored in the
# dataview: logical, factor codes, integer or double; NA = missing).
#
#   bb    alpha = 1, beta = 1: the uniform prior on a feature's probability
#         (today's default).
#   dd    alphas = rep(1, k): the uniform Dirichlet over the k levels.
#   dm    alphas = rep(1, k): the uniform Dirichlet over the k proportions.
#   niw   mu0 = the coordinates' means, lambda = 1, psi = diag(their
#         variances), nu = d + 2, over the complete rows (src/block_niw.c
#         takes its prior's scales from the same rows): a group's prior
#         mean covariance psi / (nu - d - 1) is the data's coordinate
#         variances, the empirical choice of mclust's and BNPmix's
#         defaults; rescaling a coordinate rescales mu0 and psi with it.
#   gp    alpha = 1, inv_beta = m (the column's mean; 1 when it is 0): a
#         group's Poisson rate is a priori exponential with the column's
#         mean, so counts in other units of exposure scale with it.
#   bnb   alpha = 3, beta = 2 m / r (1 when m = 0), clamped to [0.02, 500],
#         inside the default hyperprior's box (0.01, 1000) where the slice
#         kernel must start: the prior predictive mean r beta /
#         (alpha - 1) is then the column's mean m, and alpha = 3 > 2 gives the
#         predictive a finite variance.
#   nich  mu = the column's mean, kappa = 1, sigmasq = its variance (scale^2),
#         nu = 1: a group's mean and variance are a priori those of the
#         column, each worth one observation; rescaling the column rescales
#         mu and sigmasq with it.
default_feature_hp <- function(model, column) {
  if (model$kind == "niw") return(niw_default_hp(column, as.integer(model$parameters$dim)))
  ls <- column_location_scale(column)
  m <- ls[["location"]]
  switch(model$kind,
    bb = , bbnc = list(alpha = 1, beta = 1),
    dd = list(alphas = rep(1, model$parameters$k)),
    gp = list(alpha = 1, inv_beta = if (m > 0) m else 1),
    bnb = {
      beta <- if (m > 0) 2 * m / model$parameters$r else 1
      list(alpha = 3, beta = min(max(beta, 0.02), 500))
    },
    nich = list(mu = m, kappa = 1, sigmasq = ls[["scale"]]^2, nu = 1),
    dm = list(alphas = rep(1, model$parameters$k)),
    stop(sprintf("internal error: no default hyperparameters for model kind `%s`.",
                 model$kind), call. = FALSE)
  )
}

# normal_inverse_wishart(d)'s initial hyperparameters from the n x d
# matrix column's complete, finite rows (see default_feature_hp(); a
# non-finite entry is the column check's to report).
niw_default_hp <- function(column, d) {
  complete <- if (is.matrix(column) && ncol(column) == d) {
    column[rowSums(!is.finite(column)) == 0L, , drop = FALSE]
  } else {
    matrix(double(), 0L, d)
  }
  ls <- vapply(seq_len(d), function(r) column_location_scale(complete[, r]), double(2))
  psi <- diag(ls["scale", ]^2, nrow = d)
  list(mu0 = unname(ls["location", ]), lambda = 1, psi = psi, nu = d + 2)
}

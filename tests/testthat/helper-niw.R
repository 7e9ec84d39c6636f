# Closed forms of normal_inverse_wishart(d), written from the model's
# definition in base R (determinant(), solve(), lgamma()), sharing no code
# with src/block_niw*.c: its log marginal, the multivariate Student t
# predictive, its marginal on observed coordinates and its conditional of
# the missing ones, and the exact partition posterior by enumeration.

# Posterior of the complete rows of X (m x d) under hp = list(mu0, lambda,
# psi, nu), from raw sums: Psi_m = psi + sum x x' + lambda mu0 mu0' -
# lambda_m mu_m mu_m'.
ref_niw_posterior <- function(X, hp) {
  X <- X[stats::complete.cases(X), , drop = FALSE]
  m <- nrow(X)
  lambda_m <- hp$lambda + m
  mu_m <- (hp$lambda * hp$mu0 + colSums(X)) / lambda_m
  Psi <- hp$psi + crossprod(X) + hp$lambda * tcrossprod(hp$mu0) - lambda_m * tcrossprod(mu_m)
  list(m = m, lambda = lambda_m, nu = hp$nu + m, mu = mu_m, Psi = Psi)
}

ref_log_mvgamma <- function(d, a) d * (d - 1) / 4 * log(pi) + sum(lgamma(a + (1 - seq_len(d)) / 2))

ref_log_det <- function(A) as.numeric(determinant(A, logarithm = TRUE)$modulus)

# log p(X | hp), X's complete rows (0 for none).
ref_niw_log_marginal <- function(X, hp) {
  post <- ref_niw_posterior(X, hp)
  if (post$m == 0) return(0)
  d <- length(hp$mu0)
  -post$m * d / 2 * log(pi) + ref_log_mvgamma(d, post$nu / 2) - ref_log_mvgamma(d, hp$nu / 2) +
    hp$nu / 2 * ref_log_det(hp$psi) - post$nu / 2 * ref_log_det(post$Psi) +
    d / 2 * log(hp$lambda / post$lambda)
}

# The predictive t of a new row given X: dof, location, scale matrix.
ref_niw_predictive <- function(X, hp) {
  post <- ref_niw_posterior(X, hp)
  d <- length(hp$mu0)
  dof <- post$nu - d + 1
  list(dof = dof, mu = post$mu, Sigma = post$Psi * (post$lambda + 1) / (post$lambda * dof))
}

# The multivariate t log density (Kotz and Nadarajah 2004, eq. 1.1).
ref_dmvt <- function(x, mu, Sigma, dof) {
  p <- length(x)
  r <- x - mu
  q <- sum(r * solve(Sigma, r))
  lgamma((dof + p) / 2) - lgamma(dof / 2) - p / 2 * log(dof * pi) - ref_log_det(Sigma) / 2 -
    (dof + p) / 2 * log1p(q / dof)
}

# Of a partly observed x (NA = missing) under t(mu, Sigma, dof): the
# observed coordinates' log density, and the conditional of the missing
# ones: location mu_M + S_MO S_OO^-1 (x_O - mu_O), dof + |O|, scale
# (dof + q_O) / (dof + |O|) (S_MM - S_MO S_OO^-1 S_OM).
ref_mvt_split <- function(x, t) {
  O <- which(!is.na(x))
  M <- which(is.na(x))
  if (length(O) == 0L) {
    return(list(log_density = 0, mean = t$mu, dof = t$dof, scale = t$Sigma))
  }
  S_OO <- t$Sigma[O, O, drop = FALSE]
  r <- x[O] - t$mu[O]
  q <- sum(r * solve(S_OO, r))
  mean <- x
  scale <- NULL
  if (length(M) > 0L) {
    S_MO <- t$Sigma[M, O, drop = FALSE]
    mean[M] <- t$mu[M] + S_MO %*% solve(S_OO, r)
    scale <- (t$dof + q) / (t$dof + length(O)) *
      (t$Sigma[M, M, drop = FALSE] - S_MO %*% solve(S_OO, t(S_MO)))
  }
  list(log_density = ref_dmvt(x[O], t$mu[O], S_OO, t$dof), mean = mean,
       dof = t$dof + length(O), scale = scale)
}

# Exact posterior over all partitions of the rows of X under CRP(alpha)
# and fixed hp: data frame of key and prob, restricted-growth order.
ref_niw_partition_posterior <- function(X, hp, alpha) {
  z <- enum_partitions(nrow(X))
  log_w <- apply(z, 1, function(zr) {
    enum_log_crp(zr, alpha) +
      sum(vapply(unique(zr), function(k) ref_niw_log_marginal(X[zr == k, , drop = FALSE], hp),
                 numeric(1)))
  })
  data.frame(key = apply(z, 1, enum_key), prob = enum_normalise(log_w),
             stringsAsFactors = FALSE)
}

# A data frame with one normal_inverse_wishart(ncol(X)) feature, `xy`.
niw_frame <- function(X) {
  df <- data.frame(row = seq_len(nrow(X)))
  df$xy <- X
  df["xy"]
}

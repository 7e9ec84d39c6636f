# The reference math of helper-models.R checked against itself and against
# simulation, before the enumeration tests of the samplers rely on it.

ref_cases <- function() {
  list(
    bb = list(model = beta_bernoulli(), x = c(1, 0, 1, 1, NA), hp = list(alpha = 0.7, beta = 1.8),
              support = 0:1),
    dd = list(model = dirichlet_discrete(4), x = factor(c("b", "a", "b", NA, "d"), letters[1:4]),
              hp = list(alphas = c(0.5, 1, 2, 0.3)), support = 1:4),
    gp = list(model = gamma_poisson(), x = c(3L, 0L, 5L, NA, 2L),
              hp = list(alpha = 1.5, inv_beta = 2.5), support = 0:4000),
    bnb = list(model = beta_negative_binomial(3), x = c(4L, 1L, NA, 7L),
               hp = list(alpha = 4.5, beta = 2), support = 0:200000),
    nich = list(model = normal_inverse_chisq(), x = c(1.2, -0.4, NA, 2.5, 0.8),
                hp = list(mu = 0.5, kappa = 0.7, sigmasq = 1.3, nu = 3.5), support = NULL))
}

test_that("the predictive is the difference of two log marginals", {
  for (case in ref_cases()) {
    x <- case$x
    new_values <- if (is.null(case$support)) c(-3.1, 0, 0.9, 7.5) else head(case$support, 4)
    for (y in new_values) {
      both <- if (is.factor(x)) factor(c(as.character(x), levels(x)[y]), levels(x)) else c(x, y)
      expect_equal(ref_log_predictive(case$model, y, x, case$hp),
                   ref_log_marginal(case$model, both, case$hp) -
                     ref_log_marginal(case$model, x, case$hp),
                   tolerance = 1e-12, label = case$model$kind)
    }
    expect_identical(ref_log_marginal(case$model, x[is.na(x)], case$hp), 0)
  }
})

test_that("the predictive sums or integrates to 1 and has the stated mean", {
  for (case in ref_cases()) {
    kind <- case$model$kind
    if (kind == "nich") {
      density <- function(y) exp(ref_log_predictive(case$model, y, case$x, case$hp))
      expect_equal(integrate(density, -Inf, Inf, rel.tol = 1e-10)$value, 1, tolerance = 1e-8)
      mean <- integrate(function(y) y * density(y), -Inf, Inf, rel.tol = 1e-10)$value
      expect_equal(mean, ref_predictive_mean(case$model, case$x, case$hp), tolerance = 1e-7)
      next
    }
    p <- exp(ref_log_predictive(case$model, case$support, case$x, case$hp))
    expect_equal(sum(p), 1, tolerance = 1e-9, label = kind)
    mean <- ref_predictive_mean(case$model, case$x, case$hp)
    if (kind == "dd") {
      expect_equal(p, mean, tolerance = 1e-12)
    } else if (kind == "bb") {
      expect_equal(p[2], mean, tolerance = 1e-12)
    } else {
      # bnb's heavy tail (alpha' = 13.5 here) needs the long support above.
      expect_equal(sum(case$support * p), mean, tolerance = 1e-6, label = kind)
    }
  }
  # bnb's mean is infinite when alpha + m r <= 1.
  expect_identical(ref_predictive_mean(beta_negative_binomial(0.5), integer(0),
                                       list(alpha = 0.8, beta = 1)), Inf)
})

# The marginal of two observed values by Monte Carlo over the prior,
# sampled with R's own generators in the parameterisation that ?models
# states (Gamma scale, dnbinom's prob, Scaled-Inv-chi2): an independent
# route to the conjugate algebra. The tolerance is 5 Monte Carlo standard
# errors; the same check with a deliberately wrong parameterisation
# (rate for scale, 1 - p for p, sigmasq for nu sigmasq / chi2) fails.
mc_marginal <- function(draw_likelihood, n_draws = 2e5) {
  values <- draw_likelihood(n_draws)
  c(estimate = mean(values), se = sd(values) / sqrt(n_draws))
}

test_that("each closed-form marginal matches Monte Carlo over the prior", {
  set.seed(20261202)
  check <- function(kind, mc, exact, wrong) {
    expect_lt(abs(mc[["estimate"]] - exact), 5 * mc[["se"]], label = kind)
    expect_gt(abs(mc[["estimate"]] - wrong), 5 * mc[["se"]], label = paste(kind, "(wrong)"))
  }

  hp <- list(alpha = 0.7, beta = 1.8); x <- c(1, 1)
  mc <- mc_marginal(function(N) { p <- rbeta(N, hp$alpha, hp$beta); p * p })
  check("bb", mc, exp(ref_log_marginal("bb", x, hp)),
        exp(ref_log_marginal("bb", x, list(alpha = hp$beta, beta = hp$alpha))))

  hp <- list(alphas = c(0.5, 1, 2)); x <- c(3L, 3L, 2L)
  mc <- mc_marginal(function(N) {
    g <- matrix(rgamma(3 * N, hp$alphas), 3)
    theta <- t(g) / colSums(g)
    theta[, 3]^2 * theta[, 2]
  })
  check("dd", mc, exp(ref_log_marginal("dd", x, hp, list(k = 3))),
        exp(ref_log_marginal("dd", x, list(alphas = rev(hp$alphas)), list(k = 3))))

  hp <- list(alpha = 1.5, inv_beta = 2.5); x <- c(3L, 1L)
  mc <- mc_marginal(function(N) {
    lambda <- rgamma(N, shape = hp$alpha, scale = hp$inv_beta)
    dpois(x[1], lambda) * dpois(x[2], lambda)
  })
  check("gp", mc, exp(ref_log_marginal("gp", x, hp)),
        exp(ref_log_marginal("gp", x, list(alpha = hp$alpha, inv_beta = 1 / hp$inv_beta))))

  hp <- list(alpha = 4.5, beta = 2); x <- c(4L, 1L)
  mc <- mc_marginal(function(N) {
    p <- rbeta(N, hp$alpha, hp$beta)
    dnbinom(x[1], size = 3, prob = p) * dnbinom(x[2], size = 3, prob = p)
  })
  check("bnb", mc, exp(ref_log_marginal("bnb", x, hp, list(r = 3))),
        exp(ref_log_marginal("bnb", x, list(alpha = hp$beta, beta = hp$alpha), list(r = 3))))

  hp <- list(mu = 0.5, kappa = 0.7, sigmasq = 1.3, nu = 3.5); x <- c(1.2, -0.4)
  mc <- mc_marginal(function(N) {
    sigma2 <- hp$nu * hp$sigmasq / rchisq(N, hp$nu)
    mu_g <- rnorm(N, hp$mu, sqrt(sigma2 / hp$kappa))
    dnorm(x[1], mu_g, sqrt(sigma2)) * dnorm(x[2], mu_g, sqrt(sigma2))
  })
  check("nich", mc, exp(ref_log_marginal("nich", x, hp)),
        exp(ref_log_marginal("nich", x, modifyList(hp, list(kappa = 1 / hp$kappa)))))
})

test_that("the mixed exact posterior is the binary one on binary columns", {
  Y <- matrix(c(1, 0, 1, NA, 1, 0, 0, 1, 1, 1, NA, 0), 4, 3)
  hps <- matrix(c(0.7, 2, 1.5, 1.2, 0.4, 3), 3, 2)
  binary <- enum_partition_posterior(Y, alpha = 1.3, hps = hps)
  mixed <- exact_partition_posterior_mixed(
    lapply(1:3, function(d) Y[, d]), rep(list(beta_bernoulli()), 3),
    lapply(1:3, function(d) list(alpha = hps[d, 1], beta = hps[d, 2])), alpha = 1.3)
  expect_equal(mixed, binary, tolerance = 1e-12)
  # A two-level factor is binary with its second level as 1, as in
  # pack_blocks().
  as_factor <- lapply(1:3, function(d) factor(c("no", "yes")[Y[, d] + 1], c("no", "yes")))
  expect_equal(exact_partition_posterior_mixed(
    as_factor, rep(list(beta_bernoulli()), 3),
    lapply(1:3, function(d) list(alpha = hps[d, 1], beta = hps[d, 2])), alpha = 1.3),
    binary, tolerance = 1e-12)
})

test_that("the mixed exact posterior of all five models is a distribution", {
  columns <- list(c(TRUE, FALSE, TRUE, NA, TRUE),
                  factor(c("a", "c", "c", "b", NA), c("a", "b", "c")),
                  c(0L, 4L, 3L, NA, 1L),
                  c(2L, NA, 0L, 5L, 1L),
                  c(0.3, 2.2, NA, 1.9, -0.5))
  models <- list(beta_bernoulli(), dirichlet_discrete(3), gamma_poisson(),
                 beta_negative_binomial(2), normal_inverse_chisq())
  hps <- list(list(alpha = 1, beta = 1), list(alphas = c(1, 0.5, 2)),
              list(alpha = 2, inv_beta = 1), list(alpha = 3, beta = 1.5),
              list(mu = 1, kappa = 0.5, sigmasq = 1, nu = 3))
  post <- exact_partition_posterior_mixed(columns, models, hps, alpha = 0.8)
  expect_equal(nrow(post), 52L)  # Bell(5)
  expect_equal(sum(post$prob), 1, tolerance = 1e-12)
  # One group: the sum of the columns' marginals, each the chain of its
  # sequential predictives.
  one <- post$log_ml[post$key == "11111"]
  chain <- sum(vapply(seq_along(models), function(d) {
    x <- columns[[d]]; if (is.factor(x) || is.logical(x)) x <- as.integer(x)
    x <- x[!is.na(x)]
    sum(vapply(seq_along(x), function(i) {
      ref_log_predictive(models[[d]], x[i], x[seq_len(i - 1)], hps[[d]])
    }, numeric(1)))
  }, numeric(1)))
  expect_equal(one, chain, tolerance = 1e-10)
  # The rows' order does not matter: the posterior of a partition is that
  # of its image under a permutation of the rows.
  perm <- c(3, 5, 1, 4, 2)
  permuted <- exact_partition_posterior_mixed(lapply(columns, function(x) x[perm]), models, hps,
                                              alpha = 0.8)
  z <- enum_partitions(5)
  keys <- apply(z, 1, function(zr) enum_key(zr[perm]))
  expect_equal(permuted$prob[match(keys, permuted$key)], post$prob, tolerance = 1e-12)
})

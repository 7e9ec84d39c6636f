# normal_inverse_wishart(dim) end to end, proven against closed forms in R
# (helper-niw.R, which shares no code with src/block_niw*.c): the
# partition posterior by enumeration (Gibbs, and Gibbs + split-merge), the
# hyperparameter kernel (lambda and nu) against quadrature, the
# multivariate predictive (full and conditional on observed coordinates),
# a saved state's exact resume, and bad input.

niw_X <- function() {
  rbind(c(-1.1, -0.7), c(-0.4, -1.3), c(0.2, 0.9), c(1.7, 1.2), c(2.3, 2.9), c(-1.6, 0.4))
}
niw_hp <- function() {
  list(mu0 = c(0, 0.5), lambda = 0.5, psi = matrix(c(0.8, 0.2, 0.2, 0.6), 2), nu = 3.5)
}

test_that("normal_inverse_wishart() is the default model of a double matrix column", {
  df <- data.frame(a = c(1.5, 2, 3.1))
  df$xy <- cbind(x = c(0.1, 0.5, -1), y = c(2, 1, 0))
  models <- default_models(df, quiet = TRUE)
  expect_identical(models$xy, normal_inverse_wishart(2))
  expect_identical(format(normal_inverse_wishart(3)), "normal_inverse_wishart(dim = 3)")
  expect_identical(normal_inverse_wishart(2)$hp_names, c("mu0", "lambda", "psi", "nu"))
})

test_that("score_data() and the default hyperparameters of niw states are the closed forms", {
  X <- niw_X()
  view <- dataview(niw_frame(X))
  defn <- model_definition(6, list(normal_inverse_wishart(2)))
  z <- c(1, 1, 2, 2, 2, 1)
  s <- initialize_state(defn, view, assignment = z, feature_hps = list(niw_hp()))
  ref <- sum(vapply(1:2, function(k) ref_niw_log_marginal(X[z == k, , drop = FALSE], niw_hp()),
                    numeric(1)))
  expect_equal(score_data(s), ref, tolerance = 1e-10)
  # statistics: n, mean, scatter
  st <- get_suffstats(s, groups(s)[1], 1)
  rows <- X[z == z[1], , drop = FALSE]
  expect_equal(st$n, 3)
  expect_equal(c(st$mean_1, st$mean_2), unname(colMeans(rows)), tolerance = 1e-12)
  S <- crossprod(sweep(rows, 2, colMeans(rows)))
  expect_equal(c(st$scatter_1_1, st$scatter_2_1, st$scatter_1_2, st$scatter_2_2), as.vector(S),
               tolerance = 1e-12)
  # empirical defaults: mu0 the means, psi the coordinates' variances, nu = d + 2
  s0 <- initialize_state(defn, view, assignment = z)
  hp <- get_feature_hp(s0, 1)
  v <- apply(X, 2, function(x) mean((x - mean(x))^2))
  expect_equal(hp$mu0, unname(colMeans(X)))
  expect_equal(hp$psi, diag(v))
  expect_identical(c(hp$lambda, hp$nu), c(1, 4))
  # units: rescaling a coordinate rescales mu0 and psi with it
  s10 <- initialize_state(defn, dataview(niw_frame(X %*% diag(c(10, 1)))), assignment = z)
  expect_equal(get_feature_hp(s10, 1)$psi, diag(v * c(100, 1)))
})

niw_partition_draws <- function(X, hp, kernels, n_chains = 4, n_draws = 1500) {
  defn <- model_definition(nrow(X), list(normal_inverse_wishart(ncol(X))))
  partition_key_draws(defn, dataview(niw_frame(X)), list(hp), kernels, n_chains, n_draws)
}

test_that("assign and split-merge sample the exact partition posterior of niw (dim 2, by enumeration)", {
  skip_on_cran()
  set.seed(14)
  X <- niw_X()
  exact <- ref_niw_partition_posterior(X, niw_hp(), alpha = 1)
  # a deliberately wrong model: another psi and nu
  wrong_hp <- modifyList(niw_hp(), list(psi = niw_hp()$psi * 4, nu = 6))
  wrong <- ref_niw_partition_posterior(X, wrong_hp, alpha = 1)
  configs <- list(assign = list(assign_kernel()),
                  split_merge = list(assign_kernel(), split_merge_kernel(proposals = 5)))
  for (config in names(configs)) {
    keys <- niw_partition_draws(X, niw_hp(), configs[[config]])
    observed <- as.numeric(table(factor(keys, levels = exact$key)))
    expect_equal(sum(observed), length(keys))
    inflation <- enum_inflation(keys, exact$key, exact$prob)
    ok <- enum_chisq(observed, exact$prob, inflation = inflation)
    bad <- enum_chisq(observed, wrong$prob, inflation = inflation)
    if (nzchar(Sys.getenv("MICROSCOPES_REPORT"))) {
      message(sprintf("niw %s: statistic %.1f on %d df, p = %.3g; wrong: %.1f, p = %.3g", config,
                      ok$statistic, ok$df, ok$p_value, bad$statistic, bad$p_value))
    }
    expect_gt(ok$p_value, 1e-3, label = sprintf("niw %s: chi-square p-value (statistic %.1f on %d df)",
                                               config, ok$statistic, ok$df))
    expect_lt(bad$p_value, 1e-6, label = sprintf("niw %s with wrong hyperparameters", config))
  }
})

test_that("the hyperparameter kernel samples lambda and nu from their posterior (quadrature) and leaves mu0, psi", {
  skip_on_cran()
  skip_if_not_installed("coda")
  set.seed(7)
  withr::local_options(microscopes.progress = FALSE)
  X <- rbind(niw_X(), c(0.5, -0.2), c(1.1, 1.9))
  d <- 2
  view <- dataview(niw_frame(X))
  defn <- model_definition(nrow(X), list(normal_inverse_wishart(d)))
  z <- c(1, 1, 2, 2, 2, 1, 1, 2)
  hp0 <- niw_hp()
  # Default prior (?models): log lambda ~ N(0, 1.5^2), log(nu - d + 1) ~
  # N(log 3, 1.5^2); the grid is in u = log lambda, v = log(nu - d + 1).
  u <- seq(-8, 7, length.out = 241)
  v <- seq(-8, 7, length.out = 241)
  log_post <- function(tempering = 1) {
    outer(u, v, function(a, b) {
      ml <- vapply(seq_along(a), function(i) {
        hp <- modifyList(hp0, list(lambda = exp(a[i]), nu = d - 1 + exp(b[i])))
        sum(vapply(1:2, function(k) ref_niw_log_marginal(X[z == k, , drop = FALSE], hp), numeric(1)))
      }, numeric(1))
      stats::dnorm(a, 0, 1.5, log = TRUE) + stats::dnorm(b, log(3), 1.5, log = TRUE) + tempering * ml
    })
  }
  marginals <- function(lp) {
    w <- exp(lp - max(lp))
    list(rowSums(w) / sum(w), colSums(w) / sum(w))
  }
  exact <- marginals(log_post())
  tempered <- marginals(log_post(1.5))
  n_chains <- 4
  n_draws <- 1500
  runners <- lapply(seq_len(n_chains), function(j) {
    runner(defn, view, initialize_state(defn, view, assignment = z, feature_hps = list(hp0)),
           list(slice_feature_hp_kernel(width = 1)))
  })
  pr <- parallel_runner(runners, threads = 1)
  run(pr, 10)
  draws <- array(NA_real_, c(n_draws, n_chains, 2))
  for (t in seq_len(n_draws)) {
    run(pr, 1)
    draws[t, , ] <- t(vapply(get_latents(pr), function(s) {
      hp <- get_feature_hp(s, 1)
      c(log(hp$lambda), log(hp$nu - d + 1))
    }, numeric(2)))
  }
  last <- get_feature_hp(get_latents(pr)[[1]], 1)
  expect_identical(last$mu0, hp0$mu0)
  expect_identical(last$psi, hp0$psi)
  bin_test <- function(x, grid, mass) {
    # each grid point's mass stands for the cell of width h around it:
    # cut between cells, at the grid point plus h / 2
    cdf <- cumsum(mass)
    at <- vapply(seq(0.1, 0.9, by = 0.1), function(q) which(cdf >= q)[1], integer(1))
    cuts <- grid[at] + (grid[2] - grid[1]) / 2
    prob <- diff(c(0, cdf[at], 1))
    observed <- tabulate(findInterval(x, cuts, left.open = TRUE) + 1L, nbins = 10)
    inflation <- max(1, length(x) / sum(vapply(seq_len(n_chains), function(j) {
      coda::effectiveSize(x[, j])
    }, numeric(1))))
    enum_chisq(observed, prob, inflation = inflation)
  }
  for (c in 1:2) {
    grid <- if (c == 1) u else v
    ok <- bin_test(draws[, , c], grid, exact[[c]])
    bad <- bin_test(draws[, , c], grid, tempered[[c]])
    if (nzchar(Sys.getenv("MICROSCOPES_REPORT"))) {
      message(sprintf("niw hp %s: statistic %.1f, p = %.3g; tempered %.1f", c("lambda", "nu")[c],
                      ok$statistic, ok$p_value, bad$statistic))
    }
    expect_gt(ok$p_value, 1e-3, label = sprintf("%s: p-value (statistic %.1f)",
                                               c("lambda", "nu")[c], ok$statistic))
    expect_lt(bad$p_value, 1e-4, label = sprintf("%s against a tempered target", c("lambda", "nu")[c]))
  }
})

test_that("queries: the multivariate t predictive, full and conditional on observed coordinates", {
  X <- niw_X()
  hp <- niw_hp()
  view <- dataview(niw_frame(X))
  defn <- model_definition(6, list(normal_inverse_wishart(2)))
  z <- c(1, 1, 2, 2, 2, 1)
  alpha <- 1.3
  s <- initialize_state(defn, view, assignment = z, feature_hps = list(hp),
                        cluster_hp = list(alpha = alpha))
  Q <- rbind(c(NA, NA), c(0.7, NA), c(NA, -0.9), c(2.5, NA))
  # the reference: groups (and the new one) weighted by the CRP's
  # predictive times the observed coordinates' marginal t density, each
  # predicting the missing ones by its conditional mean
  groups_t <- c(lapply(1:2, function(k) ref_niw_predictive(X[z == k, , drop = FALSE], hp)),
                list(ref_niw_predictive(X[0, , drop = FALSE], hp)))
  prior <- c(sum(z == 1), sum(z == 2), alpha)
  ref <- t(apply(Q, 1, function(x) {
    parts <- lapply(groups_t, function(t) ref_mvt_split(x, t))
    lw <- log(prior) + vapply(parts, `[[`, numeric(1), "log_density")
    w <- exp(lw - max(lw))
    w <- w / sum(w)
    Reduce(`+`, Map(function(p, wk) wk * p$mean, parts, w))
  }))
  got <- posterior_predictive_statistic(niw_frame(Q), list(s), merge = "avg")
  expect_true(is.matrix(got$xy))
  expect_equal(unname(got$xy), unname(ref), tolerance = 1e-10)
  # observed coordinates come back as given
  expect_identical(got$xy[2, 1], 0.7)

  # draws: their mean against the same conditional means (t with dof > 2)
  set.seed(3)
  draws <- posterior_predictive(niw_frame(Q[2:3, ]), list(s), samples_per_chain = 4000)
  x <- vapply(draws, function(d) d$xy[1, 2], numeric(1))
  y <- vapply(draws, function(d) d$xy[2, 1], numeric(1))
  expect_true(all(vapply(draws, function(d) d$xy[1, 1] == 0.7 && d$xy[2, 2] == -0.9, logical(1))))
  expect_lt(abs(mean(x) - ref[2, 2]), 5 * stats::sd(x) / sqrt(length(x)))
  expect_lt(abs(mean(y) - ref[3, 1]), 5 * stats::sd(y) / sqrt(length(y)))
  # and not against a conditional that ignores the observed coordinate
  # (the full predictive mean), which is far from it here
  full <- Reduce(`+`, Map(function(t, w) w * t$mu, groups_t, prior / sum(prior)))
  expect_gt(abs(mean(x) - full[2]), 10 * stats::sd(x) / sqrt(length(x)))

  # the full predictive's density: one query row's group weights (a
  # state's score of a complete row) against the closed form, through
  # log_lik-free means: a complete row is returned unchanged
  got_full <- posterior_predictive_statistic(niw_frame(rbind(c(0.3, 0.1))), list(s))
  expect_identical(unname(got_full$xy[1, ]), c(0.3, 0.1))
})

test_that("a niw chain saved and resumed continues to the bit", {
  set.seed(5)
  withr::local_options(microscopes.progress = FALSE)
  X <- rbind(matrix(stats::rnorm(40, 0, 1), 20), matrix(stats::rnorm(40, 4, 1), 20))
  df <- niw_frame(X)
  df$a <- stats::rnorm(40)
  view <- dataview(df)
  defn <- model_definition(view, quiet = TRUE)
  kc <- default_kernel_config(defn)
  r <- runner(defn, view, initialize_state(defn, view), kc)
  run(r, 15)
  f <- tempfile(fileext = ".rds")
  saveRDS(get_latent(r), f)
  run(r, 15)
  saved <- readRDS(f)
  expect_identical(saved$format_version, 5L)
  resumed <- runner(defn, view, saved, kc)
  run(resumed, 15)
  expect_identical(get_latent(resumed), get_latent(r))
  expect_identical(chain_trace(resumed)$log_joint, chain_trace(r)$log_joint[16:30])
  s <- get_latent(r)
  expect_equal(utils::tail(chain_trace(r)$log_joint, 1), score_assignment(s) + score_data(s),
               tolerance = 1e-10)
  # statistics that do not match the data are refused
  s$stats[[1]][1, "mean_1"] <- s$stats[[1]][1, "mean_1"] + 1e-3
  expect_error(runner(defn, view, s, kc), "statistics differ", class = "microscopes_error_argument")
})

test_that("bad niw input is an error naming the argument", {
  expect_error(normal_inverse_wishart(), "`dim`", class = "microscopes_error_argument")
  expect_error(normal_inverse_wishart(0), "`dim`", class = "microscopes_error_argument")
  expect_error(normal_inverse_wishart(1.5), "`dim`", class = "microscopes_error_argument")
  X <- niw_X()
  view <- dataview(niw_frame(X))
  defn <- model_definition(6, list(normal_inverse_wishart(2)))
  with_hp <- function(...) {
    initialize_state(defn, view, feature_hps = list(modifyList(niw_hp(), list(...))))
  }
  expect_error(with_hp(psi = matrix(c(1, 2, 2, 1), 2)), "`psi`.*positive definite",
               class = "microscopes_error_argument")
  expect_error(with_hp(psi = matrix(c(1, 0.5, 0, 1), 2)), "`psi`.*symmetric",
               class = "microscopes_error_argument")
  expect_error(with_hp(psi = diag(3)), "`psi` of length 4", class = "microscopes_error_argument")
  expect_error(with_hp(nu = 1), "`nu` > dim - 1", class = "microscopes_error_argument")
  expect_error(with_hp(mu0 = c(0, 0, 0)), "`mu0` of length 2", class = "microscopes_error_argument")
  expect_error(with_hp(lambda = -1), "`lambda` > 0", class = "microscopes_error_argument")
  # the data: a matrix column of the wrong width, a partly missing row
  # above dim 48 (imputed by data augmentation up to 48, test-model-niw-aug.R),
  # a non-finite entry
  expect_error(model_definition(dataview(niw_frame(cbind(X, 1))), list(normal_inverse_wishart(2))),
               "needs 2", class = "microscopes_error_column")
  X49 <- matrix(stats::rnorm(6 * 49), 6)
  X49[3, 2] <- NA
  defn49 <- model_definition(6, list(normal_inverse_wishart(49)))
  expect_error(initialize_state(defn49, dataview(niw_frame(X49))), "row 3 partly NA",
               class = "microscopes_error_column")
  Xinf <- X
  Xinf[2, 1] <- Inf
  expect_error(initialize_state(defn, dataview(niw_frame(Xinf))), "finite numbers",
               class = "microscopes_error_column")
  # a row all NA is unobserved and left out
  Xall <- X
  Xall[4, ] <- NA
  s <- initialize_state(defn, dataview(niw_frame(Xall)), assignment = rep(1, 6),
                        feature_hps = list(niw_hp()))
  expect_equal(score_data(s), ref_niw_log_marginal(X[-4, ], niw_hp()), tolerance = 1e-10)
})

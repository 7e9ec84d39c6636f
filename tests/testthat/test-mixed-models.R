# Mixed definitions end to end through the low-level workflow
# (initialize_state -> runner -> run -> get_latent), proven against exact
# answers on tiny data with missing cells: the sampler's partition
# frequencies against the exact posterior over all partitions
# (exact_partition_posterior_mixed(), helper-models.R, which shares no code
# with the C blocks), score_data() against the reference marginals, the
# generic hyperparameter kernel against quadrature, the state audit after
# every draw, and an exact save / resume.

# Tiny data sets (n = 5) with NA cells, one per model and one mixing all
# five kinds; fixed hyperparameters chosen so that the partition matters.
mixed_cases <- function() {
  f <- factor(c("a", "b", "a", NA, "c"), levels = c("a", "b", "c"))
  counts <- c(0L, 6L, 1L, NA, 9L)
  x <- c(-1.2, 2.5, NA, -0.8, 2.1)
  list(
    dd = list(data = data.frame(f = f, f2 = factor(c("u", "v", "u", "v", NA))),
              models = list(dirichlet_discrete(3), dirichlet_discrete(2)),
              hps = list(list(alphas = c(0.5, 0.5, 0.5)), list(alphas = c(0.3, 0.7)))),
    gp = list(data = data.frame(y = counts),
              models = list(gamma_poisson()),
              hps = list(list(alpha = 2, inv_beta = 1.5))),
    bnb = list(data = data.frame(y = counts),
               models = list(beta_negative_binomial(2)),
               hps = list(list(alpha = 3, beta = 2))),
    nich = list(data = data.frame(x = x),
                models = list(normal_inverse_chisq()),
                hps = list(list(mu = 0, kappa = 0.5, sigmasq = 0.5, nu = 2))),
    mixed = list(data = data.frame(b = c(TRUE, FALSE, NA, TRUE, FALSE), f = f, g = counts,
                                   nb = c(2L, NA, 0L, 1L, 5L), x = x),
                 models = list(beta_bernoulli(), dirichlet_discrete(3), gamma_poisson(),
                               beta_negative_binomial(1.5), normal_inverse_chisq()),
                 hps = list(list(alpha = 1, beta = 1), list(alphas = c(1, 1, 1)),
                            list(alpha = 2, inv_beta = 1.5), list(alpha = 3, beta = 2),
                            list(mu = 0, kappa = 0.5, sigmasq = 0.5, nu = 2)))
  )
}

case_definition <- function(case) model_definition(nrow(case$data), case$models)

# Partition keys of `n_draws` draws of `n_chains` chains under `kernels`
# (hyperparameters fixed), audited after every draw.
mixed_partition_draws <- function(case, kernels, n_chains = 4, n_draws = 1500, alpha = 1) {
  partition_key_draws(case_definition(case), dataview(case$data), case$hps, kernels,
                      n_chains, n_draws, alpha)
}

test_that("score_data() of mixed states is the closed-form log marginal", {
  set.seed(11)
  for (name in names(mixed_cases())) {
    case <- mixed_cases()[[name]]
    view <- dataview(case$data)
    defn <- case_definition(case)
    for (assignment in list(rep(1L, 5), 1:5, c(1L, 2L, 1L, 2L, 3L), c(4L, 4L, 2L, 2L, 4L))) {
      s <- initialize_state(defn, view, feature_hps = case$hps, assignment = assignment)
      expect_equal(score_data(s), ref_mixed_log_ml(case$data, case$models, case$hps, assignment),
                   tolerance = 1e-10, info = name)
      by_feature <- vapply(seq_along(case$models), function(d) {
        ref_mixed_log_ml(case$data[d], case$models[d], case$hps[d], assignment)
      }, numeric(1))
      expect_equal(score_data(s, by_feature = TRUE), by_feature, tolerance = 1e-10, info = name)
    }
  }
})

test_that("mixed states have the contract's accessors", {
  case <- mixed_cases()$mixed
  view <- dataview(case$data)
  defn <- case_definition(case)
  s <- initialize_state(defn, view, feature_hps = case$hps, assignment = c(1, 1, 2, 2, 2))
  expect_null(s$heads)
  expect_identical(feature_hps(s), case$hps)
  expect_identical(get_feature_hp(s, 2), list(alphas = c(1, 1, 1)))
  expect_identical(colnames(suffstats(s)[[5]]), c("n", "mean", "m2"))
  expect_identical(get_suffstats(s, 1, 2), list(count_1 = 1, count_2 = 1, count_3 = 0))
  expect_equal(get_suffstats(s, 2, 3), list(n = 2, sum = 10, sum_log_factorial = lgamma(2) + lgamma(10)),
               tolerance = 1e-14)
  x <- case$data$x[3:5]
  x <- x[!is.na(x)]
  expect_equal(unlist(get_suffstats(s, 2, 5)), c(n = 2, mean = mean(x), m2 = sum((x - mean(x))^2)))
  expect_equal(score_assignment(s), enum_log_crp(c(1, 1, 2, 2, 2), 1))
  # Defaults from the columns (default_feature_hp()).
  s0 <- initialize_state(defn, view, assignment = rep(1, 5))
  expect_identical(get_feature_hp(s0, 5),
                   microscopes:::default_feature_hp(normal_inverse_chisq(), case$data$x))
})

test_that("bad feature_hps of mixed definitions are errors naming the argument", {
  case <- mixed_cases()$mixed
  view <- dataview(case$data)
  defn <- case_definition(case)
  bad <- function(d, hp) {
    hps <- case$hps
    hps[[d]] <- hp
    hps
  }
  expect_snapshot(error = TRUE, {
    initialize_state(defn, view, feature_hps = matrix(1, 5, 2))
    initialize_state(defn, view, feature_hps = bad(2, list(alphas = c(1, 1))))
    initialize_state(defn, view, feature_hps = bad(3, list(alpha = 1, beta = 1)))
    initialize_state(defn, view, feature_hps = bad(4, list(alpha = 3, beta = 2000)))
    initialize_state(defn, view, feature_hps = bad(5, list(mu = 0, kappa = -1, sigmasq = 1, nu = 1)))
    initialize_state(defn, view, feature_hps = bad(5, list(mu = NA, kappa = 1, sigmasq = 1, nu = 1)))
    runner(defn, view, initialize_state(defn, view), list(grid_feature_hp_kernel(
      grid = cbind(alpha = 1, beta = 1))))
  })
})

configs <- list(assign = list(assign_kernel()),
                split_merge = list(assign_kernel(), split_merge_kernel(proposals = 5)))

test_that("assign (and assign + split-merge) sample the exact partition posterior of each model and of a mix", {
  skip_on_cran()
  set.seed(2024)
  for (config in names(configs)) for (name in names(mixed_cases())) {
    case <- mixed_cases()[[name]]
    exact <- exact_partition_posterior_mixed(case$data, case$models, case$hps, alpha = 1)
    keys <- mixed_partition_draws(case, configs[[config]])
    test <- keys_chisq(keys, exact)
    if (nzchar(Sys.getenv("MICROSCOPES_REPORT"))) {
      message(sprintf("%s / %s: statistic %.1f on %d df, p = %.3g", config, name,
                      test$statistic, test$df, test$p_value))
    }
    expect_gt(test$p_value, 1e-3, label = sprintf("%s / %s: chi-square p-value (statistic %.1f on %d df)",
                                                 config, name, test$statistic, test$df))
    # A deliberately wrong model: the same draws against the posterior
    # under other hyperparameters must fail.
    wrong <- lapply(case$hps, function(hp) lapply(hp, function(v) v * 4))
    if (name %in% c("nich", "mixed")) wrong[[length(wrong)]]$mu <- 1.5
    wrong_exact <- exact_partition_posterior_mixed(case$data, case$models, wrong, alpha = 1)
    wrong_test <- keys_chisq(keys, wrong_exact)
    if (nzchar(Sys.getenv("MICROSCOPES_REPORT"))) {
      message(sprintf("  wrong hyperparameters: statistic %.1f, p = %.3g", wrong_test$statistic,
                      wrong_test$p_value))
    }
    expect_lt(wrong_test$p_value, 1e-6, label = sprintf("%s / %s with wrong hyperparameters",
                                                        config, name))
  }
})

test_that("the slice kernel of a model's hyperparameters samples their posterior (gp, by quadrature)", {
  skip_on_cran()
  set.seed(99)
  withr::local_options(microscopes.progress = FALSE)
  case <- mixed_cases()$gp
  y <- c(0L, 6L, 1L, NA, 9L, 2L)
  data <- data.frame(y = y)
  defn <- model_definition(6, list(gamma_poisson()))
  view <- dataview(data)
  z <- c(1, 1, 2, 2, 2, 1)
  # The block's default hyperprior (MODELS.md): alpha ~ LN(1, 1.5),
  # inv_beta ~ LN(m, 2) with m the column's observed mean.
  m <- mean(y, na.rm = TRUE)
  u <- seq(-9, 9, length.out = 361)   # log alpha
  v <- seq(-9, 11, length.out = 401)  # log inv_beta
  log_post <- function(tempering = 1) {
    outer(u, v, function(a, b) {
      ml <- vapply(seq_along(a), function(i) {
        ref_mixed_log_ml(data, list(gamma_poisson()),
                         list(list(alpha = exp(a[i]), inv_beta = exp(b[i]))), z)
      }, numeric(1))
      stats::dnorm(a, 0, 1.5, log = TRUE) + stats::dnorm(b, log(m), 2, log = TRUE) + tempering * ml
    })
  }
  marginals <- function(lp) {
    w <- exp(lp - max(lp))
    list(alpha = rowSums(w) / sum(w), inv_beta = colSums(w) / sum(w))
  }
  exact <- marginals(log_post())
  tempered <- marginals(log_post(1.5))
  kc <- list(slice_feature_hp_kernel(width = 1))
  n_chains <- 4
  n_draws <- 1500
  draws <- array(NA_real_, c(n_draws, n_chains, 2))
  runners <- lapply(seq_len(n_chains), function(j) {
    runner(defn, view, initialize_state(defn, view, assignment = z), kc)
  })
  pr <- parallel_runner(runners, threads = 1)
  run(pr, 10)
  for (t in seq_len(n_draws)) {
    run(pr, 1)
    draws[t, , ] <- t(vapply(get_latents(pr), function(s) {
      expect_identical(assignments(s), as.integer(z))
      unlist(get_feature_hp(s, 1))
    }, numeric(2)))
  }
  # 10 equiprobable bins of each log hyperparameter under the quadrature.
  bin_test <- function(x, grid, mass) {
    cdf <- cumsum(mass)
    cuts <- vapply(seq(0.1, 0.9, by = 0.1), function(q) grid[which(cdf >= q)[1]], numeric(1))
    prob <- diff(c(0, cdf[match(cuts, grid)], 1))
    cells <- findInterval(log(x), cuts, left.open = TRUE) + 1L
    observed <- tabulate(cells, nbins = 10)
    inflation <- max(1, length(x) / sum(vapply(seq_len(n_chains), function(j) {
      coda::effectiveSize(log(x[, j]))
    }, numeric(1))))
    enum_chisq(observed, prob, inflation = inflation)
  }
  skip_if_not_installed("coda")
  for (c in 1:2) {
    grid <- if (c == 1) u else v
    ok <- bin_test(draws[, , c], grid, exact[[c]])
    if (nzchar(Sys.getenv("MICROSCOPES_REPORT"))) {
      message(sprintf("gp coordinate %d: statistic %.1f, p = %.3g; tempered: %.1f", c,
                      ok$statistic, ok$p_value, bin_test(draws[, , c], grid, tempered[[c]])$statistic))
    }
    expect_gt(ok$p_value, 1e-3, label = sprintf("coordinate %d: p-value (statistic %.1f)", c, ok$statistic))
    bad <- bin_test(draws[, , c], grid, tempered[[c]])
    expect_lt(bad$p_value, 1e-4, label = sprintf("coordinate %d against a tempered target", c))
  }
})

test_that("a mixed chain saved and resumed continues to the bit", {
  set.seed(5)
  case <- mixed_cases()$mixed
  view <- dataview(case$data)
  defn <- case_definition(case)
  kc <- default_kernel_config(defn)
  r <- runner(defn, view, initialize_state(defn, view), kc)
  run(r, 15)
  f <- tempfile(fileext = ".rds")
  saveRDS(get_latent(r), f)
  run(r, 15)
  resumed <- runner(defn, view, readRDS(f), kc)
  run(resumed, 15)
  expect_identical(get_latent(resumed), get_latent(r))
  expect_identical(chain_trace(resumed)$log_joint, chain_trace(r)$log_joint[16:30])
  # The trace's log joint is the state's score_assignment() + score_data().
  s <- get_latent(r)
  expect_equal(utils::tail(chain_trace(r)$log_joint, 1), score_assignment(s) + score_data(s),
               tolerance = 1e-10)
  # A state whose statistics do not match the data is refused.
  s$stats[[3]][1, "sum"] <- s$stats[[3]][1, "sum"] + 1
  expect_snapshot(error = TRUE, runner(defn, view, s, kc))
})

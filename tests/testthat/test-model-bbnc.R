# beta_bernoulli_nonconj() (bbnc): beta-Bernoulli with each group's p kept
# explicit, sampled by Neal's (2000) algorithm 8 (assign_resample_kernel())
# and the theta kernel. Its proof: the partition frequencies of algorithm
# 8 + theta equal the exact posterior of the collapsed beta-Bernoulli model
# (the same model with p integrated out), computed by enumeration of all
# partitions of 5 or 6 rows (helper-enumeration.R, helper-models.R, which
# share no code with the C block); alone, beside collapsed kinds, in a
# finite mixture, with fixed and with resampled hyperparameters (the
# latter against quadrature over the hyperprior's box). Deliberately wrong
# variants of algorithm 8 fail the same tests.

bbnc_data <- function() {
  data.frame(a = c(TRUE, TRUE, FALSE, NA, FALSE),
             b = c(FALSE, TRUE, TRUE, TRUE, FALSE),
             c = c(TRUE, TRUE, FALSE, FALSE, NA))
}
bbnc_hps <- function() {
  list(list(alpha = 0.5, beta = 0.5), list(alpha = 1, beta = 2), list(alpha = 2, beta = 1))
}

# The collapsed twin of a model list: bbnc -> beta_bernoulli(), the model
# whose partition posterior bbnc's must equal.
collapsed_models <- function(models) {
  lapply(models, function(m) if (identical(m$kind, "bbnc")) beta_bernoulli() else m)
}

# Partition keys (draw x chain) of chains under `kernels`, audited after
# every draw (the state check recounts the counts and checks each group's p).
bbnc_keys <- function(data, models, hps, kernels, n_chains = 4, n_draws = 1500, alpha = 1,
                      defn = model_definition(nrow(data), models)) {
  partition_key_draws(defn, dataview(data), hps, kernels, n_chains, n_draws, alpha)
}

report <- function(...) if (nzchar(Sys.getenv("MICROSCOPES_REPORT"))) message(sprintf(...))

wrong_resample <- function(m, how) {
  k <- assign_resample_kernel(m)
  k$test_wrong_auxiliary <- how
  k
}

test_that("algorithm 8 + theta samples the exact collapsed partition posterior (bbnc alone and mixed)", {
  skip_on_cran()
  set.seed(7)
  data <- bbnc_data()
  models <- rep(list(beta_bernoulli_nonconj()), 3)
  exact <- exact_partition_posterior_mixed(data, collapsed_models(models), bbnc_hps(), alpha = 1)
  for (m in c(1, 10)) {
    keys <- bbnc_keys(data, models, bbnc_hps(), list(assign_resample_kernel(m), theta_kernel()))
    test <- keys_chisq(keys, exact)
    report("bbnc, m = %d: statistic %.1f on %d df, p = %.3g", m, test$statistic, test$df, test$p_value)
    expect_gt(test$p_value, 1e-3, label = sprintf("m = %d: p-value (statistic %.1f on %d df)",
                                                 m, test$statistic, test$df))
  }
  # Without the theta kernel algorithm 8 is still exact (p moves only when
  # a row opens a group), if slower to mix.
  keys <- bbnc_keys(data, models, bbnc_hps(), list(assign_resample_kernel(3)), n_draws = 2000)
  test <- keys_chisq(keys, exact)
  report("bbnc, no theta: statistic %.1f, p = %.3g", test$statistic, test$p_value)
  expect_gt(test$p_value, 1e-3)

  # Mixed: bbnc beside two collapsed kinds (beta_bernoulli, normal_inverse_chisq).
  mixed <- data.frame(a = data$a, b = data$b, x = c(-1.2, 2.5, NA, -0.8, 2.1))
  mixed_models <- list(beta_bernoulli_nonconj(), beta_bernoulli(), normal_inverse_chisq())
  mixed_hps <- list(list(alpha = 0.5, beta = 0.5), list(alpha = 1, beta = 2),
                    list(mu = 0, kappa = 0.5, sigmasq = 0.5, nu = 2))
  mixed_exact <- exact_partition_posterior_mixed(mixed, collapsed_models(mixed_models), mixed_hps,
                                                 alpha = 1)
  keys <- bbnc_keys(mixed, mixed_models, mixed_hps, default_kernel_config(
    model_definition(5, mixed_models))[1:2])
  test <- keys_chisq(keys, mixed_exact)
  report("mixed: statistic %.1f on %d df, p = %.3g", test$statistic, test$df, test$p_value)
  expect_gt(test$p_value, 1e-3)
  # ... and against the posterior under other hyperparameters (a sampler
  # that ignored a feature's data would land there), rejected.
  wrong_hps <- mixed_hps
  wrong_hps[[3]]$mu <- 1.5
  wrong_hps[[1]] <- list(alpha = 2, beta = 2)
  wrong <- keys_chisq(keys, exact_partition_posterior_mixed(mixed, collapsed_models(mixed_models),
                                                            wrong_hps, alpha = 1))
  expect_lt(wrong$p_value, 1e-6)
})

test_that("deliberately wrong variants of algorithm 8 fail the same test", {
  skip_on_cran()
  set.seed(8)
  data <- bbnc_data()
  models <- rep(list(beta_bernoulli_nonconj()), 3)
  exact <- exact_partition_posterior_mixed(data, collapsed_models(models), bbnc_hps(), alpha = 1)
  # Each auxiliary weighted alpha instead of alpha / m (m = 3), and the
  # singleton's own p not reused as the first auxiliary (m = 1, where it
  # matters most: staying alone then needs a fresh draw from the prior).
  for (variant in list(list("alpha", 3), list("no_reuse", 1))) {
    keys <- bbnc_keys(data, models, bbnc_hps(),
                      list(wrong_resample(variant[[2]], variant[[1]]), theta_kernel()))
    test <- keys_chisq(keys, exact)
    report("wrong (%s): statistic %.1f, p = %.3g", variant[[1]], test$statistic, test$p_value)
    expect_lt(test$p_value, 1e-6, label = sprintf("wrong variant %s", variant[[1]]))
  }
})

test_that("algorithm 8 in a finite mixture samples the exact finite posterior", {
  skip_on_cran()
  set.seed(9)
  data <- bbnc_data()
  Y <- sapply(data, as.numeric)
  hps <- t(vapply(bbnc_hps(), unlist, numeric(2)))
  models <- rep(list(beta_bernoulli_nonconj()), 3)
  exact <- enum_finite_posterior(Y, 1.5, hps, 2)
  defn <- fixed_model_definition(5, 2, models)
  expect_equal(default_kernel_config(defn)[[1]]$name, "assign_resample")
  keys <- bbnc_keys(data, models, bbnc_hps(), list(assign_resample_kernel(4), theta_kernel()),
                    alpha = 1.5, defn = defn)
  test <- keys_chisq(keys, exact)
  report("finite K = 2: statistic %.1f on %d df, p = %.3g", test$statistic, test$df, test$p_value)
  expect_gt(test$p_value, 1e-3)
  expect_true(all(nchar(gsub("[12]", "", keys)) == 0))
})

test_that("the theta kernel draws each group's p from Beta(alpha + heads, beta + tails)", {
  set.seed(10)
  withr::local_options(microscopes.progress = FALSE)
  data <- bbnc_data()
  defn <- model_definition(5, rep(list(beta_bernoulli_nonconj()), 3))
  view <- dataview(data)
  z <- c(1L, 1L, 2L, 2L, 1L)
  r <- runner(defn, view, initialize_state(defn, view, assignment = z, feature_hps = bbnc_hps()),
              list(theta_kernel()))
  n <- 4000
  p <- matrix(NA_real_, n, 6)
  for (t in seq_len(n)) {
    run(r, 1)
    s <- get_latent(r)
    p[t, ] <- c(s$stats[[1]][, "p"], s$stats[[2]][, "p"], s$stats[[3]][, "p"])
  }
  s <- get_latent(r)
  expect_identical(assignments(s), z)
  hps <- bbnc_hps()
  for (d in 1:3) for (g in 1:2) {
    st <- s$stats[[d]][g, ]
    a <- hps[[d]]$alpha + st[["heads"]]
    b <- hps[[d]]$beta + st[["tails"]]
    x <- p[, 2 * (d - 1) + g]
    ks <- suppressWarnings(stats::ks.test(x, "pbeta", a, b))
    expect_gt(ks$p.value, 1e-3, label = sprintf("feature %d group %d KS p", d, g))
    # A Beta without the group's counts (the prior) is rejected.
    if (st[["heads"]] + st[["tails"]] > 0) {
      bad <- suppressWarnings(stats::ks.test(x, "pbeta", hps[[d]]$alpha, hps[[d]]$beta))
      expect_lt(bad$p.value, 1e-6)
    }
  }
  # The held logs are those of one p, and p = exp(log_p).
  expect_equal(unname(exp(s$stats[[1]][, "log_p"]) + exp(s$stats[[1]][, "log_1mp"])), c(1, 1))
  expect_equal(s$stats[[1]][, "p"], exp(s$stats[[1]][, "log_p"]))
})

# (a, b) draws of the hyperparameter kernel alone, given fixed groups' p.
hp_kernel_draws <- function(log_p, n_draws = 3000, n_chains = 4) {
  withr::local_options(microscopes.progress = FALSE)
  data <- data.frame(a = c(TRUE, FALSE, TRUE, FALSE, TRUE, TRUE))
  defn <- model_definition(6, list(beta_bernoulli_nonconj()))
  view <- dataview(data)
  z <- c(1L, 1L, 2L, 2L, 3L, 3L)
  s <- initialize_state(defn, view, assignment = z)
  s$stats[[1]][, "log_p"] <- log_p
  s$stats[[1]][, "log_1mp"] <- log1p(-exp(log_p))
  s$stats[[1]][, "p"] <- exp(log_p)
  kc <- list(slice_feature_hp_kernel(width = 1))
  runners <- lapply(seq_len(n_chains), function(j) runner(defn, view, reseed(s), kc))
  pr <- parallel_runner(runners, threads = 1)
  draws <- array(NA_real_, c(n_draws, n_chains, 2))
  for (t in seq_len(n_draws)) {
    run(pr, 1)
    draws[t, , ] <- t(vapply(get_latents(pr), function(x) unlist(get_feature_hp(x, 1)), numeric(2)))
  }
  list(draws = draws, state = get_latent(pr$runners[[1]]))
}

test_that("the hyperparameter kernel samples (alpha, beta) given the groups' p (quadrature on the box)", {
  skip_on_cran()
  set.seed(11)
  log_p <- log(c(0.2, 0.7, 0.9))
  out <- hp_kernel_draws(log_p)
  expect_identical(unname(out$state$stats[[1]][, "log_p"]), log_p)     # p held fixed
  draws <- out$draws
  expect_true(all(draws > 0.01 & draws < 1000))
  grid <- enum_log_grid(0.01, 1000, 200)
  target <- function(lower) {
    lp <- -2.5 * log(grid$a + grid$b) + grid$log_w +
      vapply(seq_along(grid$a), function(i) {
        sum(stats::dbeta(exp(log_p), grid$a[i], grid$b[i], log = TRUE))
      }, numeric(1))
    lp[grid$a <= lower | grid$b <= lower] <- -Inf
    w <- exp(lp - max(lp))
    w / sum(w)
  }
  mass <- target(0.01)
  for (c in 1:2) {
    value <- if (c == 1) grid$a else grid$b
    x <- draws[, , c]
    z <- (mean(log(x)) - enum_hp_mean(value, mass, log)) / enum_mcse(log(x))
    cuts <- enum_hp_quantile(value, mass, grid, c(0.1, 0.5, 0.9))
    zq <- vapply(1:3, function(i) {
      below <- x < cuts[i]
      (mean(below) - c(0.1, 0.5, 0.9)[i]) / enum_mcse(below)
    }, numeric(1))
    report("hp coordinate %d: z %.2f, quantile z %s", c, z, paste(round(zq, 2), collapse = " "))
    expect_true(all(abs(c(z, zq)) < 4.5), label = sprintf("coordinate %d z-scores", c))
  }
  # A kernel that left the prior out (flat on the box) lands elsewhere.
  flat <- -2.5 * 0
  lp <- grid$log_w + vapply(seq_along(grid$a), function(i) {
    sum(stats::dbeta(exp(log_p), grid$a[i], grid$b[i], log = TRUE))
  }, numeric(1))
  w <- exp(lp - max(lp)); w <- w / sum(w)
  x <- draws[, , 1]
  expect_gt(abs(mean(log(x)) - enum_hp_mean(grid$a, w, log)) / enum_mcse(log(x)), 10)
})

test_that("with resampled hyperparameters the partition posterior is the collapsed one's (quadrature)", {
  skip_on_cran()
  set.seed(12)
  withr::local_options(microscopes.progress = FALSE)
  data <- data.frame(a = c(TRUE, TRUE, TRUE, FALSE, FALSE, FALSE),
                     b = c(TRUE, TRUE, FALSE, FALSE, FALSE, NA))
  Y <- sapply(data, as.numeric)
  grid <- enum_log_grid(0.01, 1000, 120)
  exact <- enum_hp_posterior(Y, 1, NULL, 1:2, grid, function(a, b) -2.5 * log(a + b))
  defn <- model_definition(6, rep(list(beta_bernoulli_nonconj()), 2))
  view <- dataview(data)
  kc <- list(assign_resample_kernel(10), theta_kernel(), slice_feature_hp_kernel(width = 2))
  n_chains <- 8
  n_draws <- 1500
  runners <- lapply(seq_len(n_chains), function(j) {
    runner(defn, view, initialize_state(defn, view, cluster_hp = list(alpha = 1)), kc)
  })
  pr <- parallel_runner(runners, threads = 2)
  run(pr, 50)
  keys <- matrix(NA_character_, n_draws, n_chains)
  a1 <- matrix(NA_real_, n_draws, n_chains)
  for (t in seq_len(n_draws)) {
    run(pr, 2)
    states <- get_latents(pr)
    keys[t, ] <- vapply(states, function(s) enum_key(assignments(s)), character(1))
    a1[t, ] <- vapply(states, function(s) get_feature_hp(s, 1)$alpha, numeric(1))
  }
  levels <- apply(enum_partitions(6), 1, enum_key)
  observed <- as.numeric(table(factor(keys, levels = levels)))
  test <- enum_chisq(observed, exact$partition,
                     inflation = enum_inflation(keys, levels, exact$partition))
  report("hp resampled: statistic %.1f on %d df, p = %.3g", test$statistic, test$df, test$p_value)
  expect_gt(test$p_value, 1e-4)
  # The hyperparameter's marginal: its posterior mean of log(alpha), within
  # the generous limit of the heavy-tailed box posterior (test-correctness.R).
  mass <- exact$feature[["1"]]
  z <- (mean(log(a1)) - enum_hp_mean(grid$a, mass, log)) / enum_mcse(log(a1))
  report("hp resampled: z of mean log alpha %.2f", z)
  expect_lt(abs(z), 9)
  # Against fixed hyperparameters at the prior's box centre, rejected.
  fixed <- enum_partition_posterior(Y, 1, cbind(c(1, 1), c(1, 1)))
  wrong <- enum_chisq(observed, fixed$prob, inflation = enum_inflation(keys, levels, fixed$prob))
  expect_lt(wrong$p_value, 1e-6)
})

test_that("the non-conjugate path agrees in distribution with the collapsed one", {
  skip_on_cran()
  set.seed(13)
  withr::local_options(microscopes.progress = FALSE)
  n <- 24
  proto <- rbind(c(0.9, 0.9, 0.1, 0.1), c(0.1, 0.2, 0.9, 0.8))
  g <- rep(1:2, each = n / 2)
  Y <- matrix(runif(n * 4) < proto[g, ], n, 4)
  Y[3, 2] <- NA
  data <- as.data.frame(Y)
  hps <- rep(list(list(alpha = 1, beta = 1)), 4)
  run_path <- function(model, kc) {
    defn <- model_definition(n, rep(list(model), 4))
    view <- dataview(data)
    runners <- lapply(1:4, function(j) {
      runner(defn, view, initialize_state(defn, view, feature_hps = hps), kc)
    })
    pr <- parallel_runner(runners, threads = 2)
    run(pr, 50)
    K <- matrix(NA_real_, 1000, 4)
    co <- matrix(0, n, n)
    for (t in 1:1000) {
      run(pr, 1)
      for (j in 1:4) {
        a <- assignments(get_latent(pr$runners[[j]]))
        K[t, j] <- length(unique(a))
        co <- co + outer(a, a, `==`)
      }
    }
    list(K = K, co = co / 4000)
  }
  nc <- run_path(beta_bernoulli_nonconj(), list(assign_resample_kernel(10), theta_kernel(),
                                                slice_cluster_hp_kernel()))
  cc <- run_path(beta_bernoulli(), list(assign_kernel(), slice_cluster_hp_kernel()))
  # E[K]: the two means within 4.5 standard errors of their difference.
  z <- (mean(nc$K) - mean(cc$K)) / sqrt(enum_mcse(nc$K)^2 + enum_mcse(cc$K)^2)
  report("E[K]: %.3f vs %.3f, z %.2f; co-clustering max difference %.3f", mean(nc$K),
         mean(cc$K), z, max(abs(nc$co - cc$co)))
  expect_lt(abs(z), 4.5)
  expect_lt(max(abs(nc$co - cc$co)), 0.08)
  # The two prototypes' rows cluster apart on both paths.
  expect_lt(mean(nc$co[g == 1, g == 2]), 0.2)
  expect_gt(mean(nc$co[g == 1, g == 1]), 0.7)
})

test_that("a bbnc chain saved and resumed continues to the bit, on any number of threads", {
  set.seed(14)
  withr::local_options(microscopes.progress = FALSE, microscopes.check_state = TRUE)
  data <- data.frame(a = c(TRUE, TRUE, FALSE, NA, FALSE, TRUE, FALSE, TRUE),
                     b = c(FALSE, TRUE, TRUE, TRUE, FALSE, NA, TRUE, TRUE),
                     x = c(0.3, 1.2, -0.5, 2.2, NA, 0.1, -1, 0.8))
  defn <- model_definition(data, list(beta_bernoulli_nonconj(), beta_bernoulli_nonconj(),
                                      normal_inverse_chisq()), quiet = TRUE)
  view <- dataview(data)
  kc <- default_kernel_config(defn)
  expect_identical(vapply(kc, `[[`, character(1), "name"),
                   c("assign_resample", "theta", "slice_cluster_hp", "slice_feature_hp"))
  s0 <- initialize_state(defn, view)
  expect_identical(s0$format_version, 5L)
  r <- runner(defn, view, s0, kc)
  run(r, 15)
  f <- tempfile(fileext = ".rds")
  saveRDS(get_latent(r), f)
  run(r, 15)
  resumed <- runner(defn, view, readRDS(f), kc)
  run(resumed, 15)
  expect_identical(get_latent(resumed), get_latent(r))
  expect_identical(chain_trace(resumed)$log_joint, chain_trace(r)$log_joint[16:30])
  # The trace's log joint is score_assignment() + score_data(), the data's
  # bbnc terms being h log p + t log(1 - p) + log Beta(p | alpha, beta).
  s <- get_latent(r)
  expect_equal(utils::tail(chain_trace(r)$log_joint, 1), score_assignment(s) + score_data(s),
               tolerance = 1e-10)
  by_hand <- sum(vapply(1:2, function(d) {
    st <- s$stats[[d]]
    hp <- get_feature_hp(s, d)
    # The Beta density in logs: a p drawn under a small alpha may be 0 as
    # a double, its log p is not.
    sum(st[, "heads"] * st[, "log_p"] + st[, "tails"] * st[, "log_1mp"] +
          (hp$alpha - 1) * st[, "log_p"] + (hp$beta - 1) * st[, "log_1mp"] -
          lbeta(hp$alpha, hp$beta))
  }, numeric(1)))
  nich <- sum(vapply(unique(assignments(s)), function(g) {
    ref_log_marginal(normal_inverse_chisq(), data$x[assignments(s) == g], get_feature_hp(s, 3))
  }, numeric(1)))
  expect_equal(score_data(s), by_hand + nich, tolerance = 1e-9)

  # Per-chain streams: the same chains on 1 and 2 threads.
  chains <- function(threads) {
    set.seed(3)
    pr <- parallel_runner(lapply(1:3, function(j) runner(defn, view, initialize_state(defn, view), kc)),
                          threads = threads)
    run(pr, 20)
    get_latents(pr)
  }
  expect_identical(chains(1), chains(2))

  # Counts that do not match the data, or a p that is no p, are refused.
  bad <- s
  bad$stats[[1]][1, "heads"] <- bad$stats[[1]][1, "heads"] + 1
  expect_error(runner(defn, view, bad, kc), "statistics differ from the data")
  bad <- s
  bad$stats[[2]][1, "log_p"] <- 0.5
  expect_error(runner(defn, view, bad, kc), "statistics differ from the data")
})

test_that("queries of a bbnc state: a group's explicit p, a new group's prior mean", {
  set.seed(15)
  data <- bbnc_data()
  defn <- model_definition(5, rep(list(beta_bernoulli_nonconj()), 3))
  view <- dataview(data)
  s <- initialize_state(defn, view, assignment = c(1L, 1L, 2L, 2L, 2L), feature_hps = bbnc_hps())
  s$stats[[1]][, "log_p"] <- log(c(0.8, 0.3))
  s$stats[[1]][, "log_1mp"] <- log(c(0.2, 0.7))
  s$stats[[1]][, "p"] <- c(0.8, 0.3)
  s <- get_latent(runner(defn, view, s, list(theta_kernel())))   # restored as held
  expect_equal(unname(s$stats[[1]][, "p"]), c(0.8, 0.3))
  q <- data.frame(a = NA, b = TRUE, c = FALSE)
  out <- posterior_predictive_statistic(q, list(s), merge = "avg", exact = TRUE)
  # Closed form: P(a = 1 | b, c) = sum_k w_k p_k1 with w_k the row's
  # cluster probabilities given b and c (CRP weights times the likelihood
  # of b, c given p_k2, p_k3), the new group at the prior means.
  p <- rbind(c(0.8, s$stats[[2]][1, "p"], s$stats[[3]][1, "p"]),
             c(0.3, s$stats[[2]][2, "p"], s$stats[[3]][2, "p"]),
             vapply(bbnc_hps(), function(h) h$alpha / (h$alpha + h$beta), numeric(1)))
  w <- c(2, 3, 1) * p[, 2] * (1 - p[, 3])
  expect_equal(out$a, sum(w * p[, 1]) / sum(w), tolerance = 1e-10)
})

test_that("bad input to the bbnc model and kernels is an error naming the argument", {
  data <- bbnc_data()
  defn <- model_definition(5, rep(list(beta_bernoulli_nonconj()), 3))
  view <- dataview(data)
  s <- initialize_state(defn, view)
  expect_snapshot(error = TRUE, assign_resample_kernel(0))
  expect_snapshot(error = TRUE, assign_resample_kernel(2.5))
  expect_snapshot(error = TRUE, runner(defn, view, s, list(assign_kernel())))
  expect_snapshot(error = TRUE, runner(defn, view, s, list(assign_resample_kernel(), split_merge_kernel())))
  fixed <- fixed_model_definition(5, 2, rep(list(beta_bernoulli_nonconj()), 3))
  expect_snapshot(error = TRUE, runner(fixed, view, initialize_state(fixed, view), list(assign_fixed_kernel())))
  expect_snapshot(error = TRUE, initialize_state(defn, view, feature_hps = rep(list(list(alpha = 0.001, beta = 1)), 3)))
  expect_snapshot(error = TRUE, runner(defn, matrix(TRUE, 5, 3), s, default_kernel_config(defn)))
  expect_false(any(vapply(default_kernel_config(defn), `[[`, character(1), "name") == "split_merge"))
  df <- data.frame(a = c(0, 2, 1, 0, 1))
  expect_snapshot(error = TRUE, model_definition(df, list(beta_bernoulli_nonconj())))
})

test_that("a failed allocation at any point of a bbnc run leaves a valid state", {
  fail_alloc <- function(k) .Call(microscopes:::C_test_fail_alloc, k)
  on.exit(fail_alloc(0), add = TRUE)
  withr::local_options(microscopes.check_state = TRUE, microscopes.progress = FALSE)
  set.seed(16)
  n <- 60
  data <- data.frame(a = runif(n) < 0.3, b = runif(n) < 0.6, x = rnorm(n))
  defn <- model_definition(data, list(beta_bernoulli_nonconj(), beta_bernoulli_nonconj(),
                                      normal_inverse_chisq()), quiet = TRUE)
  view <- dataview(data)
  kc <- default_kernel_config(defn)
  # All rows in one group and a large alpha: algorithm 8 opens many groups.
  s0 <- initialize_state(defn, view, cluster_hp = list(alpha = 30), assignment = rep(1L, n))
  failures <- 0
  for (k in 1:400) {
    r <- withr::with_seed(k, runner(defn, view, s0, kc))
    fail_alloc(k)
    outcome <- tryCatch({ run(r, 2); "ok" }, error = function(e) conditionMessage(e))
    left <- fail_alloc(0)
    if (left > 0) break
    failures <- failures + 1
    expect_match(outcome, "out of memory")
    s <- get_latent(r)
    expect_equal(sum(s$group_sizes), n)
    run(r, 1)
    expect_equal(sum(get_latent(r)$group_sizes), n)
  }
  expect_gt(failures, 10)
  expect_lt(k, 400)
})

test_that("dpmixture() fits bbnc columns; log_lik() is the draw's collapsed leave-one-out predictive", {
  skip_on_cran()
  withr::local_options(microscopes.progress = FALSE)
  set.seed(17)
  df <- data.frame(a = runif(30) < 0.3, b = runif(30) < 0.6)
  df$a[4] <- NA
  fit <- dpmixture(df, models = rep(list(beta_bernoulli_nonconj()), 2), chains = 2, iter = 40,
                   seed = 2, quiet = TRUE)
  expect_identical(vapply(fit$kernel_config, `[[`, character(1), "name")[1:2],
                   c("assign_resample", "theta"))
  ll <- log_lik(fit)
  z <- partition_draws(fit)
  draws <- as.data.frame(fit)
  # log_lik() knows a draw's partition and hyperparameters, not its p's:
  # its entry is p(x_i | the other rows of i's group, alpha, beta), p
  # integrated out.
  for (t in c(1, nrow(z))) {
    by_hand <- vapply(seq_len(30), function(i) {
      others <- setdiff(which(z[t, ] == z[t, i]), i)
      sum(vapply(c("a", "b"), function(col) {
        x <- df[[col]]
        if (is.na(x[i])) return(0)
        a <- draws[t, sprintf("hp[%s].alpha", col)]
        b <- draws[t, sprintf("hp[%s].beta", col)]
        h <- sum(x[others], na.rm = TRUE)
        m <- sum(!is.na(x[others]))
        log(if (x[i]) (a + h) / (a + b + m) else (b + m - h) / (a + b + m))
      }, numeric(1)))
    }, numeric(1))
    expect_equal(ll[t, ], by_hand, tolerance = 1e-10)
  }
  expect_equal(dim(predict(fit, df[1:3, ], type = "prob"))[1], 3L)
})
